// Run first by every npm entry point (start, build, test, bench, typecheck): on a Node older
// than 22 the build fails much later and far from the cause (`node:fs` has no `globSync`, the
// native SQLite module crashes), so stop here with one line that says what to do.
// Plain CommonJS with no modern syntax, so that any old Node can parse it.
"use strict";
var fs = require("fs");
var path = require("path");

var MINIMUM = 22;
var major = Number(process.versions.node.split(".")[0]);
if (major < MINIMUM) {
  var helper = path.join(__dirname, "..", "..", "shared", "tools", "ensure-node.sh");
  var here = fs.existsSync(helper) ? ' On this machine: eval "$(../shared/tools/ensure-node.sh 24)".' : "";
  process.stderr.write(
    "botyard needs Node.js " + MINIMUM + " or newer (24 recommended); this is Node.js " + process.versions.node + " (" + process.execPath + "). " +
      "Install Node.js 24 (https://nodejs.org/en/download or `nvm install 24`), put it first on PATH and run this again." +
      here + "\n"
  );
  process.exit(1);
}
