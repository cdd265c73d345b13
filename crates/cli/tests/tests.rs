//! Integration tests of the `layerbox` binary, one module per area.

#[cfg(target_os = "linux")]
mod docker_oracle;
mod frontend;
#[cfg(target_os = "linux")]
mod images_io;
#[cfg(target_os = "linux")]
mod linux_engine;
#[cfg(target_os = "linux")]
mod linux_root;
#[cfg(target_os = "linux")]
mod registry;
mod sim;
#[cfg(target_os = "linux")]
mod sim_shell_busybox;

mod help {
    use std::process::Command;

    fn layerbox(args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_layerbox"))
            .args(args)
            .output()
            .unwrap()
    }

    #[test]
    fn version_flag_prints_the_version() {
        let out = layerbox(&["--version"]);
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("layerbox {}\n", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn help_lists_the_commands() {
        let out = layerbox(&["--help"]);
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("Usage:  layerbox [OPTIONS] COMMAND"),
            "{text}"
        );
        for command in [
            "build", "run", "ps", "exec", "commit", "rmi", "version", "parse", "lint",
        ] {
            assert!(
                text.contains(&format!("\n  {command} ")),
                "{command}: {text}"
            );
        }
        assert!(text.contains("--engine"), "{text}");
    }

    #[test]
    fn unknown_command_fails_with_usage() {
        let out = layerbox(&["frobnicate"]);
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            err,
            "layerbox: 'frobnicate' is not a layerbox command.\nSee 'layerbox --help'\n"
        );
    }
}
