// Why a bundle was refused. Carries an errcode from the API table so the API layer can answer
// with `{"errcode","error"}` unchanged; the message is written for the operator.
import { ApiError, type ErrCode } from "../errors.js";

export class BundleError extends ApiError {
  constructor(errcode: ErrCode, message: string, extra: Record<string, unknown> = {}) {
    super(errcode, message, extra);
    this.name = "BundleError";
  }
}
