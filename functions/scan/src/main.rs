//! The `scan` Lambda function: GuardDuty Malware Protection's scan results (an
//! EventBridge rule) recorded on the versions they judge (see `shared::guardduty`).

use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};
use serde_json::Value;
use shared::guardduty::{handle_scan_event, ScanReport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let service = &shared::aws_service_from_env()?;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let report: ScanReport = handle_scan_event(service, &event.payload).await?;
        Ok::<ScanReport, Error>(report)
    }))
    .await
}
