# botyard for Nix: built from this repository with buildNpmPackage (npm ci from the lock file,
# then `npm run build`), installed with scripts/package.mjs as the same self-contained directory
# `npm run package` makes, plus bin/botyard.
{
  lib,
  stdenv,
  buildNpmPackage,
  nodejs_24,
  makeWrapper,
  autoPatchelfHook,
}:
let
  root = ../.;
  # better-sqlite3 ships N-API prebuilds for several platforms; the one for this platform stays
  # (and gets libstdc++ from autoPatchelfHook), the others are removed.
  prebuild =
    {
      x86_64-linux = "linux-x64.node";
      aarch64-linux = "linux-arm64.node";
    }
    .${stdenv.hostPlatform.system} or (throw "botyard: no better-sqlite3 prebuild for ${stdenv.hostPlatform.system}");
in
buildNpmPackage {
  pname = "botyard";
  inherit ((lib.importJSON (root + "/package.json"))) version;
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/package.json")
      (root + "/package-lock.json")
      (root + "/tsconfig.base.json")
      (root + "/tsconfig.json")
      (root + "/config.example.yaml")
      (root + "/README.md")
      (root + "/packages")
      (root + "/plugins")
      (root + "/scripts")
      (root + "/packaging")
      # The web admin's workspace, once it exists (the lock file names it).
      (lib.fileset.maybeMissing (root + "/web-admin"))
    ];
  };
  nodejs = nodejs_24;
  # Replace with the hash the first build prints (nix-prefetch cannot run where this was
  # written; see README.md, "Running as a service").
  npmDepsHash = lib.fakeHash;
  # `npm run build`: TypeScript, then the shipped plugin bundles (esbuild).
  npmBuildScript = "build";

  nativeBuildInputs = [
    makeWrapper
    autoPatchelfHook
  ];
  buildInputs = [ stdenv.cc.cc.lib ];

  installPhase = ''
    runHook preInstall
    node scripts/package.mjs --dir $out/lib/node_modules/botyard
    find $out/lib/node_modules/botyard/node_modules/better-sqlite3/prebuilds -type f ! -name ${prebuild} -delete
    makeWrapper ${lib.getExe nodejs_24} $out/bin/botyard \
      --add-flags $out/lib/node_modules/botyard/packages/host/bin/botyard.mjs
    runHook postInstall
  '';

  meta = {
    description = "A daemon that hosts Matrix bots as plugins, compatible with maubot's management API";
    license = lib.licenses.agpl3Plus;
    mainProgram = "botyard";
    platforms = [
      "x86_64-linux"
      "aarch64-linux"
    ];
  };
}
