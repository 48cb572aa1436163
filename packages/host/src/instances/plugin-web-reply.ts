// An instance's answer to a web request, as the host sends it: the plugin's own, or the host's
// when the plugin cannot give one (not running, too slow, its worker gone, a body over the limit).
import type { WebRequest } from "@botyard/sdk";
import type { Logger } from "pino";
import { HostError, type ErrCode } from "../errors.js";
import { RequestTimeoutError, WebResponseTooLargeError, WorkerDiedError, type PluginWebReply, type PluginWorker } from "../workers/plugin-worker.js";

/** The answer for an instance that does not run. */
export function notRunningReply(instanceId: string): PluginWebReply {
  return textReply(404, `instance ${instanceId} is not running`);
}

/** Asks `worker` for the instance's answer; a larger body comes as a stream pulled from it. */
export async function pluginWebReply(worker: PluginWorker, instanceId: string, request: WebRequest, timeoutMs: number, log: Logger): Promise<PluginWebReply> {
  try {
    return await worker.web(instanceId, request, timeoutMs);
  } catch (err) {
    if (err instanceof RequestTimeoutError) return textReply(504, "the plugin did not answer in time");
    if (err instanceof WorkerDiedError) return textReply(502, "the plugin's worker stopped");
    if (err instanceof WebResponseTooLargeError) {
      log.warn({ bytes: err.bytes, limit: err.limit }, `web answer refused: ${err.message}`);
      const limitMb = Math.round(err.limit / 2 ** 20);
      return errorReply(
        "plugin_response_too_large",
        `The plugin answered with ${err.bytes} bytes, over the ${limitMb} MiB limit of plugin web responses (workers.max_web_response_mb); nothing of it was sent.`,
      );
    }
    return textReply(500, "the plugin's web handler failed");
  }
}

function textReply(status: number, text: string): PluginWebReply {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, bytes: Buffer.byteLength(text), body: text };
}

/** The host's own refusal of a plugin's answer, in the API's `{"errcode","error"}` shape. */
function errorReply(errcode: ErrCode, message: string): PluginWebReply {
  const error = new HostError(errcode, message);
  const body = JSON.stringify(error.toJSON());
  return { status: error.status, headers: { "content-type": "application/json" }, bytes: Buffer.byteLength(body), body };
}
