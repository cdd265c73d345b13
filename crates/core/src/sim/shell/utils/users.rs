//! Account tools editing `/etc/passwd`, `/etc/group`, `/etc/shadow`, `/etc/gshadow`:
//! shadow-utils' `useradd`, `groupadd`, `usermod`; Debian's `adduser`/`addgroup`, or
//! busybox's when `/bin/sh` is busybox (Alpine).

use super::{Args, Ctx, db, util_name};
use crate::fs::FileData;

/// The days since the epoch, as `/etc/shadow`'s last-change field.
fn days(ctx: &Ctx<'_, '_>) -> i64 {
    ctx.now().div_euclid(86_400)
}

fn append_line(ctx: &mut Ctx<'_, '_>, path: &str, line: &str, mode: u32) {
    let mut bytes = ctx.read_file(path).unwrap_or_default();
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    let p = ctx.abs(path);
    let mode = ctx.fs_ref().stat(&p).map_or(mode, |s| s.mode);
    let _ = ctx.fs().write_data(&p, FileData::Bytes(bytes), mode);
}

fn rewrite(ctx: &mut Ctx<'_, '_>, path: &str, rows: &[Vec<String>]) {
    let text: String = rows.iter().map(|r| r.join(":") + "\n").collect();
    let p = ctx.abs(path);
    let mode = ctx.fs_ref().stat(&p).map_or(0o644, |s| s.mode);
    let _ = ctx
        .fs()
        .write_data(&p, FileData::Bytes(text.into_bytes()), mode);
}

/// The next free ID: regular ones count up from 1000, system ones down from 999 (shadow-utils),
/// or up from 100 (busybox).
fn next_id(used: &[u32], system: bool, busybox: bool) -> u32 {
    if system && busybox {
        return (100..1000).find(|i| !used.contains(i)).unwrap_or(999);
    }
    if system {
        return (100..1000).rev().find(|i| !used.contains(i)).unwrap_or(100);
    }
    let max = used
        .iter()
        .copied()
        .filter(|u| (1000..60000).contains(u))
        .max();
    max.map_or(1000, |m| m + 1)
}

fn ids(rows: &[Vec<String>]) -> Vec<u32> {
    rows.iter()
        .filter_map(|r| r.get(2).and_then(|v| v.parse().ok()))
        .collect()
}

fn find_group(ctx: &Ctx<'_, '_>, g: &str) -> Option<u32> {
    db(ctx, "/etc/group")
        .into_iter()
        .find(|r| r.len() > 2 && (r[0] == g || r[2] == g))
        .and_then(|r| r[2].parse().ok())
}

fn add_group(ctx: &mut Ctx<'_, '_>, name: &str, gid: Option<u32>, system: bool) -> u32 {
    let groups = db(ctx, "/etc/group");
    let used = ids(&groups);
    let gid = gid.unwrap_or_else(|| next_id(&used, system, ctx.busybox()));
    append_line(ctx, "/etc/group", &format!("{name}:x:{gid}:"), 0o644);
    if ctx.fs_ref().stat("/etc/gshadow").is_ok() {
        append_line(ctx, "/etc/gshadow", &format!("{name}:!::"), 0o640);
    }
    gid
}

fn add_member(ctx: &mut Ctx<'_, '_>, group: &str, user: &str) -> bool {
    let mut rows = db(ctx, "/etc/group");
    let Some(row) = rows
        .iter_mut()
        .find(|r| r.first().is_some_and(|n| n == group))
    else {
        return false;
    };
    while row.len() < 4 {
        row.push(String::new());
    }
    let mut members: Vec<String> = row[3]
        .split(',')
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .collect();
    if !members.iter().any(|m| m == user) {
        members.push(user.to_owned());
    }
    row[3] = members.join(",");
    rewrite(ctx, "/etc/group", &rows);
    true
}

/// A new account's settings.
struct NewUser {
    name: String,
    uid: Option<u32>,
    group: Option<String>,
    groups: Vec<String>,
    home: Option<String>,
    shell: String,
    comment: String,
    system: bool,
    create_home: bool,
    user_group: bool,
}

/// Creates the account; `Err((message, status))` as the tool reports it.
fn create_user(ctx: &mut Ctx<'_, '_>, tool: &str, u: &NewUser) -> Result<(), (String, i32)> {
    let passwd = db(ctx, "/etc/passwd");
    if passwd.iter().any(|r| r.first() == Some(&u.name)) {
        return Err((format!("{tool}: user '{}' already exists", u.name), 9));
    }
    let used = ids(&passwd);
    if let Some(uid) = u.uid
        && used.contains(&uid)
    {
        return Err((format!("{tool}: UID {uid} is not unique"), 4));
    }
    let gid = match &u.group {
        Some(g) => {
            find_group(ctx, g).ok_or_else(|| (format!("{tool}: group '{g}' does not exist"), 6))?
        }
        None if u.user_group => {
            if find_group(ctx, &u.name).is_some() {
                return Err((
                    format!(
                        "{tool}: group {} exists - if you want to add this user to that group, use -g.",
                        u.name
                    ),
                    9,
                ));
            }
            let uid_guess = u
                .uid
                .unwrap_or_else(|| next_id(&used, u.system, ctx.busybox()));
            let groups = db(ctx, "/etc/group");
            let want = (!ids(&groups).contains(&uid_guess)).then_some(uid_guess);
            add_group(ctx, &u.name, want, u.system)
        }
        None => 100,
    };
    for g in &u.groups {
        if find_group(ctx, g).is_none() {
            return Err((format!("{tool}: group '{g}' does not exist"), 6));
        }
    }
    let uid = u
        .uid
        .unwrap_or_else(|| next_id(&used, u.system, ctx.busybox()));
    let home = u
        .home
        .clone()
        .unwrap_or_else(|| format!("/home/{}", u.name));
    append_line(
        ctx,
        "/etc/passwd",
        &format!("{}:x:{uid}:{gid}:{}:{home}:{}", u.name, u.comment, u.shell),
        0o644,
    );
    let d = days(ctx);
    let shadow_line = if u.system {
        format!("{}:!:{d}::::::", u.name)
    } else {
        format!("{}:!:{d}:0:99999:7:::", u.name)
    };
    append_line(ctx, "/etc/shadow", &shadow_line, 0o640);
    for g in &u.groups {
        add_member(ctx, g, &u.name);
    }
    if u.create_home {
        let hp = ctx.abs(&home);
        if ctx.fs_ref().stat(&hp).is_err() {
            let _ = ctx.fs().mkdir_all(&hp, 0o755);
            if let Ok(skel) = ctx.fs_ref().walk("/etc/skel") {
                for (path, st) in skel.into_iter().skip(1) {
                    let rel = &path["/etc/skel".len()..];
                    let dst = format!("{}{rel}", hp.trim_end_matches('/'));
                    match st.file_type {
                        crate::fs::FileType::Dir => {
                            let _ = ctx.fs().mkdir(&dst, st.mode);
                        }
                        crate::fs::FileType::File => {
                            if let Ok(data) = ctx.fs_ref().read(&path).cloned() {
                                let _ = ctx.fs().write_data(&dst, data, st.mode);
                            }
                        }
                        crate::fs::FileType::Symlink => {
                            if let Ok(t) = ctx.fs_ref().read_link(&path).map(str::to_owned) {
                                let _ = ctx.fs().symlink(&t, &dst);
                            }
                        }
                    }
                    let _ = ctx.fs().lchown(&dst, uid, gid);
                }
            }
            let _ = ctx.fs().chown(&hp, uid, gid);
        }
    }
    Ok(())
}

/// `useradd [-m] [-r] [-u uid] [-g group] [-G groups] [-d home] [-s shell] [-c comment] name`.
pub(crate) fn useradd(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "mMrNUlougGdsckefpK",
        "ugGdsckefpK",
        &[
            ("create-home", 'm'),
            ("no-create-home", 'M'),
            ("system", 'r'),
            ("uid", 'u'),
            ("gid", 'g'),
            ("groups", 'G'),
            ("home-dir", 'd'),
            ("shell", 's'),
            ("comment", 'c'),
            ("no-user-group", 'N'),
            ("user-group", 'U'),
            ("no-log-init", 'l'),
            ("non-unique", 'o'),
            ("password", 'p'),
        ],
    ) else {
        return 2;
    };
    let Some(name) = a.operands.first().cloned() else {
        ctx.err("Usage: useradd [options] LOGIN\n");
        return 2;
    };
    let u = NewUser {
        name,
        uid: a.value('u').and_then(|v| v.parse().ok()),
        group: a.value('g').map(str::to_owned),
        groups: a
            .value('G')
            .map(|g| g.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        home: a.value('d').map(str::to_owned),
        shell: a.value('s').unwrap_or("/bin/sh").to_owned(),
        comment: a.value('c').unwrap_or_default().to_owned(),
        system: a.has('r'),
        create_home: a.has('m'),
        user_group: !a.has('N') && a.value('g').is_none(),
    };
    match create_user(ctx, "useradd", &u) {
        Ok(()) => 0,
        Err((msg, status)) => {
            ctx.err(format!("{msg}\n"));
            status
        }
    }
}

/// `groupadd [-r] [-g gid] [-f] name`.
pub(crate) fn groupadd(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "rfgoK",
        "gK",
        &[("system", 'r'), ("force", 'f'), ("gid", 'g')],
    ) else {
        return 2;
    };
    let Some(name) = a.operands.first().cloned() else {
        ctx.err("Usage: groupadd [options] GROUP\n");
        return 2;
    };
    if find_group(ctx, &name).is_some() {
        if a.has('f') {
            return 0;
        }
        ctx.err(format!("groupadd: group '{name}' already exists\n"));
        return 9;
    }
    let gid = a.value('g').and_then(|v| v.parse().ok());
    if let Some(g) = gid
        && ids(&db(ctx, "/etc/group")).contains(&g)
    {
        ctx.err(format!("groupadd: GID '{g}' already exists\n"));
        return 4;
    }
    add_group(ctx, &name, gid, a.has('r'));
    0
}

/// `usermod -aG groups user`, `-s shell`, `-d home`.
pub(crate) fn usermod(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "aGsdLUmug",
        "GsdLug",
        &[
            ("append", 'a'),
            ("groups", 'G'),
            ("shell", 's'),
            ("home", 'd'),
        ],
    ) else {
        return 2;
    };
    let Some(name) = a.operands.first().cloned() else {
        ctx.err("Usage: usermod [options] LOGIN\n");
        return 2;
    };
    let mut passwd = db(ctx, "/etc/passwd");
    let Some(row) = passwd.iter_mut().find(|r| r.first() == Some(&name)) else {
        ctx.err(format!("usermod: user '{name}' does not exist\n"));
        return 6;
    };
    if let Some(s) = a.value('s') {
        s.clone_into(&mut row[6]);
    }
    if let Some(d) = a.value('d') {
        d.clone_into(&mut row[5]);
    }
    rewrite(ctx, "/etc/passwd", &passwd);
    if let Some(groups) = a.value('G') {
        for g in groups.split(',') {
            if !add_member(ctx, g, &name) {
                ctx.err(format!("usermod: group '{g}' does not exist\n"));
                return 6;
            }
        }
    }
    0
}

/// `adduser`: Debian's (`--system --group --disabled-password --gecos "" --home d --shell s
/// --uid n --ingroup g name`, or `adduser user group`), or busybox's (`-D -S -H -u n -G g -h d
/// -s s name`).
pub(crate) fn adduser(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let tool = util_name(args);
    if ctx.busybox() {
        return busybox_adduser(ctx, args);
    }
    let mut u = NewUser {
        name: String::new(),
        uid: None,
        group: None,
        groups: Vec::new(),
        home: None,
        shell: "/bin/bash".to_owned(),
        comment: ",,,".to_owned(),
        system: false,
        create_home: true,
        user_group: true,
    };
    let mut ops = Vec::new();
    let mut i = 1;
    let mut quiet = false;
    let mut shell_given = false;
    while i < args.len() {
        let a = args[i].clone();
        i += 1;
        let mut val = || {
            i += 1;
            args.get(i - 1).cloned().unwrap_or_default()
        };
        match a.as_str() {
            "--system" => u.system = true,
            "--group" => u.user_group = true,
            "--no-create-home" => u.create_home = false,
            "--disabled-password" | "--disabled-login" => {}
            "--quiet" | "-q" => quiet = true,
            "--gecos" | "--comment" => u.comment = val(),
            "--home" => u.home = Some(val()),
            "--shell" => {
                u.shell = val();
                shell_given = true;
            }
            "--uid" => u.uid = val().parse().ok(),
            "--gid" | "--ingroup" => u.group = Some(val()),
            s if s.starts_with('-') => {
                ctx.err(format!(
                    "{tool}: Unknown option: {}\n",
                    s.trim_start_matches('-')
                ));
                return 1;
            }
            _ => ops.push(a),
        }
    }
    if ops.len() == 2 {
        // `adduser user group`: add an existing user to a group.
        if !add_member(ctx, &ops[1], &ops[0]) {
            ctx.err(format!("{tool}: The group `{}' does not exist.\n", ops[1]));
            return 1;
        }
        if !quiet {
            ctx.out(format!(
                "Adding user `{}' to group `{}' ...\nDone.\n",
                ops[0], ops[1]
            ));
        }
        return 0;
    }
    let Some(name) = ops.first().cloned() else {
        ctx.err(format!("{tool}: Only one or two names allowed.\n"));
        return 1;
    };
    if u.system {
        if !shell_given {
            "/usr/sbin/nologin".clone_into(&mut u.shell);
        }
        if u.home.is_none() {
            u.home = Some("/nonexistent".to_owned());
            u.create_home = false;
        }
        if !args.iter().any(|a| a == "--group") {
            u.user_group = false;
            u.group = u.group.or(Some("nogroup".to_owned()));
        }
        if u.comment == ",,," {
            u.comment = String::new();
        }
    }
    if u.group.is_some() {
        u.user_group = false;
    }
    u.name = name;
    match create_user(ctx, &tool, &u) {
        Ok(()) => 0,
        Err((_, 9)) => {
            ctx.err(format!("{tool}: The user `{}' already exists.\n", u.name));
            1
        }
        Err((msg, _)) => {
            ctx.err(format!("{msg}\n"));
            1
        }
    }
}

fn busybox_adduser(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(ctx, args, "DSHhgsGuk", "hgsGuk", &[]) else {
        return 1;
    };
    let Some(name) = a.operands.first().cloned() else {
        ctx.err("BusyBox: adduser: usage: adduser [OPTIONS] USER [GROUP]\n");
        return 1;
    };
    if let Some(group) = a.operands.get(1) {
        if !add_member(ctx, group, &name) {
            ctx.err(format!("adduser: unknown group {group}\n"));
            return 1;
        }
        return 0;
    }
    let u = NewUser {
        name,
        uid: a.value('u').and_then(|v| v.parse().ok()),
        group: a.value('G').map(str::to_owned),
        groups: Vec::new(),
        home: a.value('h').map(str::to_owned),
        shell: a.value('s').unwrap_or("/bin/sh").to_owned(),
        comment: a.value('g').unwrap_or("Linux User,,,").to_owned(),
        system: a.has('S'),
        create_home: !a.has('H'),
        user_group: a.value('G').is_none(),
    };
    match create_user(ctx, "adduser", &u) {
        Ok(()) => 0,
        Err((_, 9)) => {
            ctx.err(format!("adduser: user '{}' in use\n", u.name));
            1
        }
        Err((msg, _)) => {
            ctx.err(format!(
                "{}\n",
                msg.replace("adduser: group '", "adduser: unknown group ")
                    .trim_end_matches("' does not exist")
            ));
            1
        }
    }
}

/// `addgroup`: Debian's (`--system [--gid n] name`, `addgroup user group`) or busybox's
/// (`-S -g gid name`, `addgroup user group`).
pub(crate) fn addgroup(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let mut system = false;
    let mut gid = None;
    let mut ops = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        match a.as_str() {
            "-S" | "--system" => system = true,
            "-g" | "--gid" => {
                gid = args.get(i).and_then(|v| v.parse().ok());
                i += 1;
            }
            "--quiet" | "-q" => {}
            s if s.starts_with('-') => {
                ctx.err(format!("addgroup: unrecognized option '{s}'\n"));
                return 1;
            }
            _ => ops.push(a.clone()),
        }
    }
    match ops.as_slice() {
        [user, group] => {
            if !db(ctx, "/etc/passwd")
                .iter()
                .any(|r| r.first() == Some(user))
            {
                ctx.err(format!("addgroup: unknown user {user}\n"));
                return 1;
            }
            if !add_member(ctx, group, user) {
                ctx.err(format!("addgroup: unknown group {group}\n"));
                return 1;
            }
            0
        }
        [name] => {
            if find_group(ctx, name).is_some() {
                ctx.err(format!("addgroup: group '{name}' in use\n"));
                return 1;
            }
            add_group(ctx, name, gid, system);
            0
        }
        _ => {
            ctx.err("addgroup: Only one or two names allowed.\n");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{base_fs, sh, sh_on};

    fn text(fs: &crate::fs::UnionFs, p: &str) -> String {
        String::from_utf8_lossy(fs.read(p).unwrap().bytes().unwrap()).into_owned()
    }

    #[test]
    fn useradd_and_groupadd_edit_the_databases() {
        let mut fs = base_fs();
        let o = sh_on(
            &mut fs,
            "groupadd -r app && useradd -r -g app -s /usr/sbin/nologin app && useradd -m -G app dev && id dev",
        );
        assert_eq!(o.status, 0, "{o}");
        assert_eq!(
            o.stdout(),
            b"uid=1000(dev) gid=1000(dev) groups=1000(dev)\n"
        );
        let passwd = text(&fs, "/etc/passwd");
        assert!(
            passwd.contains("app:x:999:999::/home/app:/usr/sbin/nologin\n"),
            "{passwd}"
        );
        assert!(
            passwd.ends_with("dev:x:1000:1000::/home/dev:/bin/sh\n"),
            "{passwd}"
        );
        let group = text(&fs, "/etc/group");
        assert!(
            group.contains("app:x:999:dev\n") && group.ends_with("dev:x:1000:\n"),
            "{group}"
        );
        assert!(text(&fs, "/etc/shadow").contains("dev:!:19675:0:99999:7:::\n"));
        let home = fs.stat("/home/dev").unwrap();
        assert_eq!((home.uid, home.gid, home.mode), (1000, 1000, 0o755));
        assert!(fs.stat("/home/app").is_err());
        let o = sh_on(&mut fs, "useradd dev");
        assert_eq!(
            (o.status, o.stderr()),
            (9, b"useradd: user 'dev' already exists\n".to_vec())
        );
        let o = sh_on(&mut fs, "groupadd app");
        assert_eq!(
            (o.status, o.stderr()),
            (9, b"groupadd: group 'app' already exists\n".to_vec())
        );
        assert_eq!(
            sh("useradd -g nope u").2,
            "useradd: group 'nope' does not exist\n"
        );
    }

    #[test]
    fn debian_adduser_system_account() {
        let mut fs = base_fs();
        let o = sh_on(
            &mut fs,
            "adduser --system --group --no-create-home --disabled-password --gecos '' svc && addgroup --system web && adduser svc web",
        );
        assert_eq!(o.status, 0, "{o}");
        let passwd = text(&fs, "/etc/passwd");
        assert!(
            passwd.ends_with("svc:x:999:999::/nonexistent:/usr/sbin/nologin\n"),
            "{passwd}"
        );
        assert!(text(&fs, "/etc/group").ends_with("svc:x:999:\nweb:x:998:svc\n"));
    }
}
