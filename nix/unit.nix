# The mapping from services.botyard's options to the systemd units and the generated config,
# as a pure function of plain values that uses Nix builtins only. nix/module.nix calls it with the
# module's options; the tests call it with nix-instantiate (no nixpkgs needed) and check that with
# the defaults below it renders packaging/systemd/*.service and *.timer exactly (comments aside),
# so the NixOS module and the drop-in unit cannot drift apart.
#
# Sections are lists of [ key value ] pairs: a key may repeat (LoadCredential, SystemCallFilter),
# and the order is the order of the unit files. `toServiceConfig` gives the attribute sets
# NixOS's systemd.services.<name>.serviceConfig takes.
{
  # The `botyard` program (the package's bin/botyard in the module).
  execPath ? "/usr/local/bin/botyard",
  # The state directory; systemd's StateDirectory= must be under /var/lib.
  dataDir ? "/var/lib/botyard",
  # Address and port the management API listens on (server.hostname, server.port); the health
  # check asks there.
  host ? "127.0.0.1",
  port ? 29316,
  # Credential name -> file on the host, for LoadCredential=. The config reads each with
  # `{credential: name}`; admin-password and server-secret are the ones it always uses.
  credentialFiles ? {
    admin-password = "/etc/botyard/credentials/admin-password";
    server-secret = "/etc/botyard/credentials/server-secret";
  },
  # A generated config to install as <dataDir>/config.yaml before every start (the module's), or
  # null: `botyard init --service` writes one when missing and the operator edits it.
  configFile ? null,
  # Settings merged over the generated config's defaults (see `config` below).
  settings ? { },
  # The admin the generated config names (its password is the admin-password credential).
  adminName ? "root",
  documentation ? "file:/usr/local/lib/node_modules/botyard/README.md",
  installPath ? "install",
  systemctlPath ? "/bin/systemctl",
  shPath ? "/bin/sh",
}:
let
  inherit (builtins) attrNames concatStringsSep filter isAttrs map stringLength substring
    toString zipAttrsWith head tail length;

  varLib = "/var/lib/";
  stateDirectory =
    if substring 0 (stringLength varLib) dataDir == varLib && stringLength dataDir > stringLength varLib
    then substring (stringLength varLib) (stringLength dataDir) dataDir
    else throw "services.botyard.dataDir must be a folder under /var/lib (systemd's StateDirectory=); got ${dataDir}";

  configPath = "${dataDir}/config.yaml";

  # Settings override the defaults key by key; lists and scalars are replaced whole.
  recursiveMerge = lhs: rhs:
    zipAttrsWith (name: values:
      if length values == 2 && isAttrs (head values) && isAttrs (head (tail values))
      then recursiveMerge (head values) (head (tail values))
      else if length values == 2 then head (tail values)
      else head values) [ lhs rhs ];

  # The health check asks on the loopback address when the API listens on every address.
  healthHost =
    if host == "0.0.0.0" then "127.0.0.1"
    else if host == "::" then "[::1]"
    else if builtins.match ".*:.*" host != null then "[${host}]"
    else host;
  healthUrl = "http://${healthHost}:${toString port}/_matrix/maubot/v1/health";

  # The same hardening for the daemon and its health check.
  hardening = [
    [ "CapabilityBoundingSet" "" ]
    [ "AmbientCapabilities" "" ]
    [ "NoNewPrivileges" "yes" ]
    [ "ProtectSystem" "strict" ]
    [ "ProtectHome" "yes" ]
    [ "PrivateTmp" "yes" ]
    [ "PrivateDevices" "yes" ]
    [ "PrivateMounts" "yes" ]
    [ "PrivateUsers" "yes" ]
    [ "ProtectHostname" "yes" ]
    [ "ProtectClock" "yes" ]
    [ "ProtectKernelTunables" "yes" ]
    [ "ProtectKernelModules" "yes" ]
    [ "ProtectKernelLogs" "yes" ]
    [ "ProtectControlGroups" "yes" ]
    [ "ProtectProc" "invisible" ]
    [ "ProcSubset" "pid" ]
    [ "RemoveIPC" "yes" ]
    [ "RestrictAddressFamilies" "AF_UNIX AF_INET AF_INET6" ]
    [ "RestrictNamespaces" "yes" ]
    [ "RestrictRealtime" "yes" ]
    [ "RestrictSUIDSGID" "yes" ]
    [ "LockPersonality" "yes" ]
    [ "SystemCallArchitectures" "native" ]
    [ "SystemCallFilter" "@system-service" ]
    [ "SystemCallFilter" "~@privileged" ]
    [ "SystemCallErrorNumber" "EPERM" ]
  ];

  service = {
    Unit = [
      [ "Description" "botyard: Matrix bots as plugins" ]
      [ "Documentation" documentation ]
      [ "After" "network-online.target" ]
      [ "Wants" "network-online.target" ]
    ];
    Service = [
      [ "Type" "exec" ]
    ]
    ++ (if configFile == null then [ ] else [ [ "ExecStartPre" "${installPath} -m 0600 ${configFile} ${configPath}" ] ])
    ++ [
      [ "ExecStartPre" "${execPath} init --service -c ${configPath}" ]
      [ "ExecStart" "${execPath} start -c ${configPath}" ]
      [ "Restart" "on-failure" ]
      [ "RestartSec" "5s" ]
      [ "KillMode" "mixed" ]
      [ "TimeoutStopSec" "15s" ]
      [ "SyslogIdentifier" "botyard" ]
      [ "DynamicUser" "yes" ]
      [ "StateDirectory" stateDirectory ]
      [ "StateDirectoryMode" "0750" ]
      [ "WorkingDirectory" dataDir ]
      [ "UMask" "0077" ]
    ]
    ++ map (name: [ "LoadCredential" "${name}:${credentialFiles.${name}}" ]) (attrNames credentialFiles)
    ++ [ [ "MemoryMax" "512M" ] ]
    ++ hardening;
    Install = [ [ "WantedBy" "multi-user.target" ] ];
  };

  healthService = {
    Unit = [
      [ "Description" "botyard health check" ]
      [ "After" "botyard.service" ]
    ];
    Service = [
      [ "Type" "oneshot" ]
      [ "ExecCondition" "+${systemctlPath} is-active --quiet botyard.service" ]
      [ "ExecStart" "${execPath} health --url ${healthUrl} --attempts 3 --interval 10" ]
      [ "ExecStopPost" "+${shPath} -c 'if [ \"$$SERVICE_RESULT\" = exit-code ]; then echo \"botyard did not answer: restarting botyard.service\"; exec ${systemctlPath} restart --no-block botyard.service; fi'" ]
      [ "TimeoutStartSec" "90s" ]
      [ "SyslogIdentifier" "botyard-health" ]
      [ "DynamicUser" "yes" ]
      [ "UMask" "0077" ]
      [ "MemoryMax" "128M" ]
    ]
    ++ hardening;
  };

  healthTimer = {
    Unit = [ [ "Description" "Check botyard's health every 5 minutes" ] ];
    Timer = [
      [ "OnActiveSec" "5min" ]
      [ "OnUnitActiveSec" "5min" ]
      [ "AccuracySec" "30s" ]
    ];
    Install = [ [ "WantedBy" "timers.target" ] ];
  };

  # Unit file text: sections in the order given, keys in list order.
  render = sectionNames: unit:
    concatStringsSep "\n" (map (section:
      "[${section}]\n" + concatStringsSep "" (map (kv: "${head kv}=${head (tail kv)}\n") unit.${section}))
      (filter (s: unit ? ${s}) sectionNames));

  # [ [ k v ] ... ] -> { k = v; } with a list for a repeated key, as NixOS's serviceConfig takes.
  toServiceConfig = pairs:
    zipAttrsWith (name: values: if length values == 1 then head values else values)
      (map (kv: { ${head kv} = head (tail kv); }) pairs);

  # The generated config.yaml (JSON, which YAML reads): paths relative to dataDir, secrets from
  # credentials, JSON logs for the journal. The daemon fills in the rest of its defaults.
  defaultConfig = {
    database = "./botyard.db";
    plugin_directories = {
      upload = "./plugins";
      load = [ "./plugins" ];
      trash = "./trash";
    };
    plugin_databases.sqlite = "./databases";
    server = {
      hostname = host;
      inherit port;
      public_url = "http://${healthHost}:${toString port}";
      unshared_secret.credential = "server-secret";
    };
    homeservers = { };
    admins.${adminName}.credential = "admin-password";
    logging = {
      level = "info";
      console = "json";
      file = null;
    };
    admin_room = null;
  };
in
{
  inherit stateDirectory healthUrl;
  config = recursiveMerge defaultConfig settings;
  units = {
    "botyard.service" = service;
    "botyard-health.service" = healthService;
    "botyard-health.timer" = healthTimer;
  };
  text = {
    "botyard.service" = render [ "Unit" "Service" "Install" ] service;
    "botyard-health.service" = render [ "Unit" "Service" "Install" ] healthService;
    "botyard-health.timer" = render [ "Unit" "Timer" "Install" ] healthTimer;
  };
  serviceConfig = {
    botyard = toServiceConfig service.Service;
    botyard-health = toServiceConfig healthService.Service;
  };
  timerConfig = toServiceConfig healthTimer.Timer;
}
