# NixOS module: services.botyard. The units and the generated config come from ./unit.nix, the
# same function that renders packaging/systemd/ (checked by the tests), so both stay one unit.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.botyard;
  json = pkgs.formats.json { };

  credentialFiles = {
    admin-password = cfg.adminPasswordFile;
    server-secret = cfg.serverSecretFile;
  } // cfg.credentialFiles;

  unitArgs = {
    execPath = lib.getExe' cfg.package "botyard";
    inherit (cfg) dataDir host port settings adminName;
    credentialFiles = lib.mapAttrs (_: toString) credentialFiles;
    documentation = "file:${cfg.package}/lib/node_modules/botyard/README.md";
    installPath = "${pkgs.coreutils}/bin/install";
    systemctlPath = "${config.systemd.package}/bin/systemctl";
    shPath = pkgs.runtimeShell;
  };
  # The generated config depends on the options only; the unit then names its store path.
  configFile = json.generate "botyard-config.yaml" (import ./unit.nix unitArgs).config;
  units = import ./unit.nix (unitArgs // { inherit configFile; });

  # [ [ "After" "x" ] ... ] -> [ "x" ... ] for one key of a section.
  valuesOf = key: section: map (kv: lib.elemAt kv 1) (lib.filter (kv: lib.head kv == key) section);
in
{
  options.services.botyard = {
    enable = lib.mkEnableOption "botyard, a daemon that hosts Matrix bots as plugins (maubot-compatible management API)";

    package = lib.mkOption {
      type = lib.types.package;
      description = "The botyard package to use.";
    };

    host = lib.mkOption {
      type = lib.types.str;
      default = "127.0.0.1";
      example = "0.0.0.0";
      description = ''
        Address the management API and the plugins' web endpoints listen on
        (`server.hostname`). Keep the loopback address and put a reverse proxy in front to
        reach it from elsewhere.
      '';
    };

    port = lib.mkOption {
      type = lib.types.port;
      default = 29316;
      description = "Port the management API listens on (`server.port`).";
    };

    openFirewall = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Whether to open {option}`services.botyard.port` in the firewall.";
    };

    dataDir = lib.mkOption {
      type = lib.types.str;
      default = "/var/lib/botyard";
      description = ''
        State directory: the generated config.yaml, the host database, plugin bundles,
        instance databases and the trash. Must be under /var/lib (systemd's `StateDirectory=`).
      '';
    };

    adminName = lib.mkOption {
      type = lib.types.str;
      default = "root";
      description = "Name of the admin of the management API; its password is {option}`services.botyard.adminPasswordFile`.";
    };

    adminPasswordFile = lib.mkOption {
      type = lib.types.path;
      example = "/run/secrets/botyard-admin-password";
      description = ''
        File holding the admin's password as a bcrypt hash (`botyard hash-password`), or in
        plaintext (then hashed in memory at every start, with a warning). Given to the service
        with `LoadCredential=` as `admin-password`; it is not copied to the Nix store.
      '';
    };

    serverSecretFile = lib.mkOption {
      type = lib.types.path;
      example = "/run/secrets/botyard-server-secret";
      description = ''
        File holding the secret that signs admin login tokens (`server.unshared_secret`, at
        least 16 characters, e.g. `openssl rand -hex 32`). Given to the service with
        `LoadCredential=` as `server-secret`.
      '';
    };

    credentialFiles = lib.mkOption {
      type = lib.types.attrsOf lib.types.path;
      default = { };
      example = lib.literalExpression ''{ synapse-secret = "/run/secrets/synapse-registration-secret"; }'';
      description = ''
        More secrets for the config, credential name to file, each given to the service with
        `LoadCredential=`; the config reads one with `{ credential = "<name>"; }`, e.g.
        `settings.homeservers.<name>.secret`.
      '';
    };

    settings = lib.mkOption {
      type = json.type;
      default = { };
      example = lib.literalExpression ''
        {
          homeservers.example = {
            url = "http://127.0.0.1:8008";
            secret.credential = "synapse-secret";
          };
          logging.level = "debug";
        }
      '';
      description = ''
        botyard configuration (config.example.yaml documents every key), merged over the
        module's defaults: paths in {option}`services.botyard.dataDir`, secrets from the
        credentials above, JSON logs to the journal. Write secrets as `{ credential = "<name>"; }`,
        never inline: this becomes a file in the Nix store, installed as config.yaml in the state
        directory before every start (changes made there are replaced).
      '';
    };

    healthCheck.enable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = ''
        Whether to check GET /health every 5 minutes (botyard-health.timer) and restart botyard
        when three tries 10 seconds apart get no answer.
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = lib.hasPrefix "/var/lib/" cfg.dataDir;
        message = "services.botyard.dataDir must be under /var/lib (systemd's StateDirectory=).";
      }
    ];

    systemd.services.botyard = {
      description = lib.head (valuesOf "Description" units.units."botyard.service".Unit);
      documentation = valuesOf "Documentation" units.units."botyard.service".Unit;
      after = valuesOf "After" units.units."botyard.service".Unit;
      wants = valuesOf "Wants" units.units."botyard.service".Unit;
      wantedBy = valuesOf "WantedBy" units.units."botyard.service".Install;
      restartTriggers = [ configFile ];
      serviceConfig = units.serviceConfig.botyard;
    };

    systemd.services.botyard-health = lib.mkIf cfg.healthCheck.enable {
      description = lib.head (valuesOf "Description" units.units."botyard-health.service".Unit);
      after = valuesOf "After" units.units."botyard-health.service".Unit;
      serviceConfig = units.serviceConfig.botyard-health;
    };

    systemd.timers.botyard-health = lib.mkIf cfg.healthCheck.enable {
      description = lib.head (valuesOf "Description" units.units."botyard-health.timer".Unit);
      wantedBy = valuesOf "WantedBy" units.units."botyard-health.timer".Install;
      timerConfig = units.timerConfig;
    };

    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall [ cfg.port ];
  };
}
