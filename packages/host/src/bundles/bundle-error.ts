// Why a bundle was refused: a HostError, so it carries an errcode from the table and the API
// answers it with `{"errcode","error"}` unchanged; the message is written for the operator.
import { HostError, type ErrCode } from "../errors.js";

export class BundleError extends HostError {
  constructor(errcode: ErrCode, message: string, extra: Record<string, unknown> = {}) {
    super(errcode, message, extra);
    this.name = "BundleError";
  }
}
