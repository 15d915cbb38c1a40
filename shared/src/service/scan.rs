//! Malware scanning in the service: new versions wait for the scanner's verdict, bytes
//! are served by that verdict, and the verdict, once in, is recorded on its version.

use super::{Caller, DeleteMode, FileService};
use crate::config::{InfectedAction, ScanMode};
use crate::domain::{version_key_owner, OrgId, Scan, ScanStatus, StoredVersion};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Backend, FileRepository};

/// A scanner's verdict on one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanVerdict {
    pub key: String,
    pub status: ScanStatus,
    /// What the scanner said: `NO_THREATS_FOUND`, the threats' names, `UNSUPPORTED`, ...
    pub verdict: String,
}

/// What recording a verdict did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The version now carries it.
    Version(ScanStatus),
    /// Infected, and its file purged (`INFECTED_ACTION=delete`).
    Purged,
    /// No saved version has this key (an unsaved upload, a file gone since).
    Nothing,
}

impl<B: Backend> FileService<B> {
    /// New versions wait for their scan, when scanning is on.
    pub(super) fn to_be_scanned(&self, versions: &mut [StoredVersion]) {
        if self.config.scan.mode == ScanMode::None {
            return;
        }
        for version in versions.iter_mut().filter(|v| v.scan.is_none()) {
            version.scan = Some(Scan {
                status: ScanStatus::Pending,
                ..Scan::default()
            });
        }
    }

    /// Whether a version's bytes may be handed out, as its scan stands.
    pub(super) fn servable(&self, status: ScanStatus) -> Result<()> {
        if !self.config.scan.blocks_downloads {
            return Ok(());
        }
        match status {
            ScanStatus::Clean | ScanStatus::NotScanned => Ok(()),
            ScanStatus::Infected => Err(Error::new(
                ErrorCode::FileInfected,
                "the malware scan found a threat in this version; it is not served",
            )),
            ScanStatus::Pending => Err(Error::new(
                ErrorCode::ScanPending,
                "this version's malware scan has not finished; try again shortly",
            )),
            ScanStatus::Error => Err(Error::new(
                ErrorCode::ScanPending,
                "this version could not be scanned for malware, so it is not served",
            )),
        }
    }

    /// Records a scanner's verdict on its version; with `INFECTED_ACTION=delete`, an
    /// infected file is purged.
    pub async fn record_scan(&self, verdict: &ScanVerdict) -> Result<Recorded> {
        let Some((org, id)) = version_key_owner(&verdict.key) else {
            return Ok(Recorded::Nothing);
        };
        let scan = Scan {
            status: verdict.status,
            scanned_at: Some(self.clock.now_rfc3339()),
            verdict: Some(verdict.verdict.clone()),
        };
        let Some(record) = self.files().set_scan(id, org, &verdict.key, &scan).await? else {
            return Ok(Recorded::Nothing);
        };
        if verdict.status == ScanStatus::Infected
            && self.config.scan.infected_action == InfectedAction::Delete
        {
            let caller = Caller {
                org: OrgId::parse(&record.org)?,
                sub: None,
            };
            match self.delete(&caller, id, DeleteMode::Purge).await {
                Ok(_) => return Ok(Recorded::Purged),
                Err(e) if e.code() == ErrorCode::NotFound => return Ok(Recorded::Nothing),
                Err(e) => return Err(e),
            }
        }
        Ok(Recorded::Version(verdict.status))
    }
}
