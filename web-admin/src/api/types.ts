// The API's JSON shapes, declared once in the host (packages/host/src/api/types.ts) and imported
// here type-only, so a changed route shape breaks this build.
export type * from "../../../packages/host/src/api/types.js";
