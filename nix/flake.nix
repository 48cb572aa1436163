# botyard's flake: the package and the NixOS module. From a checkout: `nix build ./nix`; in a
# NixOS configuration: inputs.botyard.url = "git+https://…/botyard?dir=nix", then
# imports = [ inputs.botyard.nixosModules.default ] and services.botyard.enable = true.
{
  description = "botyard: a daemon that hosts Matrix bots as plugins (maubot-compatible)";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forEachSystem = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forEachSystem (pkgs: rec {
        botyard = pkgs.callPackage ./package.nix { };
        default = botyard;
      });

      nixosModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./module.nix ];
          services.botyard.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };
      nixosModules.botyard = self.nixosModules.default;
    };
}
