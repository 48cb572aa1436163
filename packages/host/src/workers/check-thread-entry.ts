// The check thread: runs the host's CPU-bound checks of untrusted input (bundle reading, YAML,
// schema compiling and validating) off the main thread, one job at a time. Only botyard's own
// code runs here; no plugin module is ever imported.
import { createHash } from "node:crypto";
import { parentPort } from "node:worker_threads";
import type { ValidateFunction } from "ajv";
import { BundleError } from "../bundles/bundle-error.js";
import { checkBundleConfig, readBundle } from "../bundles/bundle-reader.js";
import { type ConfigSchema, compileConfigSchema } from "../bundles/config-schema.js";
import { configFromText } from "../bundles/plugin-config.js";
import type { CheckJob, CheckKind, CheckReply, CheckRequest, CheckResults, CheckThreadReady } from "./check-protocol.js";

if (!parentPort) throw new Error("check-thread-entry.js must run in a worker thread");
const port = parentPort;

// Instance configs are checked against the same few schemas again and again; compiling is the
// expensive part, so compiled validators are kept, a bounded number of them.
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 32;

function validatorFor(schema: ConfigSchema): ValidateFunction {
  const key = createHash("sha256").update(JSON.stringify(schema)).digest("hex");
  let validate = compiled.get(key);
  if (!validate) {
    validate = compileConfigSchema(schema);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, validate);
  }
  return validate;
}

function run(job: CheckJob): CheckResults[CheckKind] {
  switch (job.kind) {
    case "read-bundle":
      return readBundle(Buffer.from(job.zip.buffer, job.zip.byteOffset, job.zip.byteLength), { hostVersion: job.hostVersion });
    case "check-bundle-config":
      checkBundleConfig(job);
      return null;
    case "instance-config": {
      let validate: ValidateFunction | null = null;
      try {
        validate = job.configSchema ? validatorFor(job.configSchema) : null;
      } catch (err) {
        return { problem: `the plugin's config_schema does not compile: ${(err as Error).message}` };
      }
      return configFromText(job.baseConfig, validate, job.yamlText);
    }
  }
}

port.on("message", ({ id, job }: CheckRequest) => {
  let reply: CheckReply;
  try {
    reply = { id, ok: true, value: run(job) };
  } catch (err) {
    reply = { id, ok: false, message: err instanceof Error ? err.message : String(err), errcode: err instanceof BundleError ? err.errcode : null };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies CheckThreadReady);
