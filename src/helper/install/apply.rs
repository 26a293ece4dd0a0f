//! Carrying out a plan on this machine: files written and removed, the platform's
//! registration tools run, and every step told in both languages.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{
    linux::UserDirs, macos, mimeapps, windows, InstallError, Plan, PlannedFile, Registration,
    DESKTOP_FILE, SCHEME_MIME_TYPE,
};

/// Writes the plan's files and registers the helper; prints each step to `out`.
pub fn install(plan: &Plan, out: &mut dyn Write) -> Result<(), InstallError> {
    for file in &plan.files {
        write_file(file)?;
        say(
            out,
            &format!("書き込みました / wrote: {}", file.path.display()),
        );
    }
    match &plan.registration {
        Registration::Xdg(dirs) => set_default_handler(dirs, out)?,
        Registration::DesktopDatabase(applications) => update_desktop_database(applications, out)?,
        Registration::FilesOnly => {}
        Registration::MacApp(bundle) => {
            if let Some(parent) = bundle.app.parent() {
                create_dir(parent)?;
            }
            for command in macos::build_commands(bundle) {
                run(&command[0], &command[1..])?;
            }
            say(
                out,
                &format!(
                    "mykey:// を開くアプリを登録しました / registered the app that opens mykey:// links: {}",
                    bundle.app.display()
                ),
            );
        }
        Registration::Registry(values) => {
            for value in values {
                run("reg", &windows::add_args(value))?;
                say(out, &format!("登録しました / registered: {}", value.key));
            }
        }
    }
    say(out, "インストールしました。/ Installed.");
    Ok(())
}

/// Removes what [`install`] wrote (and the `mykey://` default where it is still ours).
/// Running it again, or without an install, changes nothing.
pub fn uninstall(plan: &Plan, out: &mut dyn Write) -> Result<(), InstallError> {
    let mut removed = 0;
    match &plan.registration {
        Registration::Xdg(dirs) => removed += unset_default_handler(dirs, out)?,
        Registration::MacApp(bundle) if bundle.app.exists() => {
            let command = macos::unregister_command(bundle);
            run(&command[0], &command[1..])?;
            std::fs::remove_dir_all(&bundle.app).map_err(|e| InstallError::io(&bundle.app, e))?;
            say(
                out,
                &format!("削除しました / removed: {}", bundle.app.display()),
            );
            removed += 1;
        }
        Registration::Registry(values) => {
            for key in windows::keys_to_delete(values) {
                // `reg query` fails for a key that is not there: nothing to delete.
                if run("reg", &["query".to_owned(), key.clone()]).is_ok() {
                    run("reg", &windows::delete_args(&key))?;
                    say(out, &format!("削除しました / removed: {key}"));
                    removed += 1;
                }
            }
        }
        _ => {}
    }
    for file in &plan.files {
        match std::fs::remove_file(&file.path) {
            Ok(()) => {
                say(
                    out,
                    &format!("削除しました / removed: {}", file.path.display()),
                );
                removed += 1;
                if let Some(parent) = file.path.parent() {
                    prune(parent, &file.keep);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(InstallError::io(&file.path, e)),
        }
    }
    match &plan.registration {
        Registration::Xdg(dirs) if removed > 0 => refresh_user_applications(dirs, out)?,
        Registration::DesktopDatabase(applications) if removed > 0 => {
            update_desktop_database(applications, out)?;
        }
        _ => {}
    }
    if removed > 0 {
        say(out, "アンインストールしました。/ Uninstalled.");
    } else {
        say(
            out,
            "インストールされたものはありませんでした。/ Nothing to remove: the helper was not installed.",
        );
    }
    Ok(())
}

fn say(out: &mut dyn Write, line: &str) {
    // What was done is done whether or not it could be printed.
    let _ = writeln!(out, "{line}");
}

fn create_dir(path: &Path) -> Result<(), InstallError> {
    std::fs::create_dir_all(path).map_err(|e| InstallError::io(path, e))
}

fn write_file(file: &PlannedFile) -> Result<(), InstallError> {
    if let Some(parent) = file.path.parent() {
        create_dir(parent)?;
    }
    std::fs::write(&file.path, &file.contents).map_err(|e| InstallError::io(&file.path, e))
}

/// Removes `folder` and its parents while they are empty, stopping at `keep`.
fn prune(folder: &Path, keep: &Path) {
    let mut current = Some(folder);
    while let Some(dir) = current {
        if dir == keep || !dir.starts_with(keep) || std::fs::remove_dir(dir).is_err() {
            return;
        }
        current = dir.parent();
    }
}

/// Whether `program` is on `PATH`.
fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

fn run(program: &str, args: &[impl AsRef<OsStr>]) -> Result<(), InstallError> {
    let failed = |reason: String| InstallError::Command {
        program: program.to_owned(),
        reason,
    };
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| failed(e.to_string()))?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(failed(format!("{} {}", output.status, stderr.trim())))
    }
}

/// xdg-mime when installed (it knows each desktop's files), else mimeapps.list here.
fn set_default_handler(dirs: &UserDirs, out: &mut dyn Write) -> Result<(), InstallError> {
    if have("xdg-mime") {
        run("xdg-mime", &["default", DESKTOP_FILE, SCHEME_MIME_TYPE])?;
        say(
            out,
            "mykey:// を開くアプリに設定しました / set as the handler of mykey:// links (xdg-mime)",
        );
    } else {
        let list = dirs.mimeapps_list();
        let text = read_or_empty(&list)?;
        if let Some(parent) = list.parent() {
            create_dir(parent)?;
        }
        let updated = mimeapps::with_default(&text, SCHEME_MIME_TYPE, DESKTOP_FILE);
        std::fs::write(&list, updated).map_err(|e| InstallError::io(&list, e))?;
        say(
            out,
            &format!(
                "mykey:// を開くアプリに設定しました / set as the handler of mykey:// links: {}",
                list.display()
            ),
        );
    }
    update_desktop_database(&dirs.applications(), out)
}

/// Takes the helper out of the default of `mykey://` wherever it still is; a default that
/// names another program stays. A list left with nothing in it is removed.
fn unset_default_handler(dirs: &UserDirs, out: &mut dyn Write) -> Result<usize, InstallError> {
    let mut changed = 0;
    for list in [dirs.mimeapps_list(), dirs.legacy_mimeapps_list()] {
        let text = read_or_empty(&list)?;
        let Some(updated) = mimeapps::without_default(&text, SCHEME_MIME_TYPE, DESKTOP_FILE) else {
            continue;
        };
        let result = if mimeapps::has_entries(&updated) {
            std::fs::write(&list, updated)
        } else {
            std::fs::remove_file(&list)
        };
        result.map_err(|e| InstallError::io(&list, e))?;
        say(
            out,
            &format!(
                "mykey:// を開くアプリの設定を外しました / no longer the handler of mykey:// links: {}",
                list.display()
            ),
        );
        changed += 1;
    }
    Ok(changed)
}

/// After the entry is gone: the user's desktop database again, or, with no application left
/// in the folder, no database at all.
fn refresh_user_applications(dirs: &UserDirs, out: &mut dyn Write) -> Result<(), InstallError> {
    let applications = dirs.applications();
    let cache = applications.join("mimeinfo.cache");
    let any_entry = std::fs::read_dir(&applications)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "desktop"))
        })
        .unwrap_or(false);
    if any_entry {
        return update_desktop_database(&applications, out);
    }
    if cache.is_file() {
        std::fs::remove_file(&cache).map_err(|e| InstallError::io(&cache, e))?;
    }
    prune(&applications, &dirs.data_home);
    Ok(())
}

fn update_desktop_database(applications: &Path, out: &mut dyn Write) -> Result<(), InstallError> {
    if !have("update-desktop-database") || !applications.is_dir() {
        return Ok(());
    }
    run("update-desktop-database", &[applications])?;
    say(
        out,
        &format!(
            "アプリの一覧を更新しました / updated the desktop database: {}",
            applications.display()
        ),
    );
    Ok(())
}

fn read_or_empty(path: &PathBuf) -> Result<String, InstallError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(InstallError::io(path, e)),
    }
}
