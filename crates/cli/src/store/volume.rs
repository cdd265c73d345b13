//! Volumes' directories: `volumes/<name>/_data` holds what the containers that mount the
//! volume write there; `volumes/<name>.json` is its record (see [`RecordKind::Volume`]).

use std::path::PathBuf;

use layerbox_core::engine::{Container, Volume};

use super::{RecordKind, Store, StoreError, at, tree_size, valid_id};

impl Store {
    /// Every volume's record, oldest first (their files are in their directories, not here).
    pub fn volumes(&self) -> Result<Vec<Volume>, StoreError> {
        let mut all = Vec::new();
        for name in self.list_records(RecordKind::Volume)? {
            if let Some(v) = self.get_record::<Volume>(RecordKind::Volume, &name)? {
                all.push(v);
            }
        }
        all.sort_by_key(|v| v.created);
        Ok(all)
    }

    /// Writes volume `v`'s record, its `_data` directory made first (so a record never names
    /// a volume without one).
    pub fn put_volume(&self, v: &Volume) -> Result<(), StoreError> {
        self.create_volume_dir(&v.name)?;
        let mut record = v.clone();
        record.content = layerbox_core::fs::Layer::new();
        self.put_record(RecordKind::Volume, &v.name, &record)
    }

    /// Removes the anonymous volumes that go with the removed container `removed` (`rm -v`,
    /// `run --rm`): the core's rule over the containers and volumes on record.
    pub fn remove_volumes_of(&self, removed: &Container) -> Result<(), StoreError> {
        if removed.mounts.is_empty() {
            return Ok(());
        }
        let containers: Vec<Container> = self
            .containers()?
            .into_iter()
            .map(|r| r.container)
            .collect();
        let volumes = self.volumes()?;
        for name in layerbox_core::engine::volumes_going_with(removed, &containers, &volumes) {
            self.remove_record(RecordKind::Volume, &name)?;
        }
        Ok(())
    }
    /// The directory of volume `name` (its `_data` is inside).
    pub fn volume_dir(&self, name: &str) -> Result<PathBuf, StoreError> {
        Ok(self
            .root
            .join(RecordKind::Volume.dir())
            .join(valid_id(name)?))
    }

    /// Where volume `name`'s content lives: what containers see at its mount point.
    pub fn volume_data(&self, name: &str) -> Result<PathBuf, StoreError> {
        Ok(self.volume_dir(name)?.join("_data"))
    }

    /// Creates volume `name`'s `_data` directory (mode 0755, as docker's local driver), kept
    /// as it is when it exists.
    pub fn create_volume_dir(&self, name: &str) -> Result<PathBuf, StoreError> {
        use std::os::unix::fs::DirBuilderExt as _;
        let data = self.volume_data(name)?;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&data)
            .map_err(at(&data))?;
        Ok(data)
    }

    /// The bytes volume `name` holds ([`tree_size`]); 0 when it has no directory.
    pub fn volume_size(&self, name: &str) -> Result<u64, StoreError> {
        let data = self.volume_data(name)?;
        if !data.is_dir() {
            return Ok(0);
        }
        tree_size(&data).map_err(at(&data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_volume_has_a_data_dir_a_size_and_goes_with_its_record() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let data = store.create_volume_dir("cache").unwrap();
        assert_eq!(data, tmp.path().join("volumes/cache/_data"));
        std::fs::write(data.join("a"), "12345").unwrap();
        std::fs::hard_link(data.join("a"), data.join("b")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", data.join("link")).unwrap();
        // counted once per inode, and the symlink by its target's length, never followed
        assert_eq!(store.volume_size("cache").unwrap(), 5 + 11);
        // a second create keeps what is there
        store.create_volume_dir("cache").unwrap();
        assert!(data.join("a").exists());
        store
            .put_record(RecordKind::Volume, "cache", &serde_json::json!({}))
            .unwrap();
        assert_eq!(store.list_records(RecordKind::Volume).unwrap(), ["cache"]);
        store.remove_record(RecordKind::Volume, "cache").unwrap();
        assert!(!store.volume_dir("cache").unwrap().exists());
        assert!(store.list_records(RecordKind::Volume).unwrap().is_empty());
        assert_eq!(store.volume_size("cache").unwrap(), 0);
        assert!(matches!(
            store.volume_dir("../etc"),
            Err(StoreError::InvalidId(_))
        ));
    }
}
