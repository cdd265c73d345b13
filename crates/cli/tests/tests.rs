//! Integration tests of the `layerbox` binary, one module per area.

mod frontend;
#[cfg(target_os = "linux")]
mod linux_root;
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
        assert!(text.contains("Usage: layerbox"), "{text}");
        for command in ["parse", "lint", "version"] {
            assert!(
                text.contains(&format!("  {command} ")),
                "{command} missing: {text}"
            );
        }
    }

    #[test]
    fn unknown_command_fails_with_usage() {
        let out = layerbox(&["frobnicate"]);
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("unrecognized subcommand 'frobnicate'"),
            "{err}"
        );
    }
}
