//! `peat collection`: a collection's settings (history, priority, expiry), the same on
//! every node of the formation.

use serde::Serialize;

use super::Context;
use crate::sync::settings::SETTINGS_COLLECTION;
use crate::sync::{CollectionSettings, DocInput, Error, HistoryPolicy, Priority, validate};

/// Show or change a collection's settings
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Show a collection's settings, or change those named. Settings are kept in the \
system collection `_peat.collections`, which syncs like any other, so every node of the \
formation ends up with the same; concurrent changes of different settings both stay. A collection \
need not exist yet to be set up.\n\n\
--history: `full` keeps every change; `latest` keeps and syncs only the current state.\n\
--priority: on a constrained link, changes of higher classes go first.\n\
--ttl: documents expire (are removed on every node) this long after their last update; a \
document's own `upsert --ttl` wins; `off` keeps them.",
    after_help = "Examples:\n  peat collection beacons\n  peat collection beacons --history latest --priority critical --ttl 10m\n  peat collection beacons --ttl off"
)]
pub struct Args {
    /// The collection
    #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::collections))]
    pub collection: String,
    /// What to keep of the documents' past: full or latest
    #[arg(long, value_name = "POLICY", value_parser = |s: &str| s.parse::<HistoryPolicy>())]
    pub history: Option<HistoryPolicy>,
    /// Sync priority on constrained links: critical, high, normal or bulk
    #[arg(long, value_name = "CLASS", value_parser = |s: &str| s.parse::<Priority>())]
    pub priority: Option<Priority>,
    /// Documents expire this long after their last update (e.g. 90s, 10m, 1d), or `off`
    #[arg(long, value_name = "DURATION", value_parser = ttl)]
    pub ttl: Option<Ttl>,
}

/// A `--ttl` value: a time to live, or `off`.
#[derive(Debug, Clone, Copy)]
pub struct Ttl(Option<u64>);

fn ttl(s: &str) -> Result<Ttl, String> {
    if s == "off" {
        return Ok(Ttl(None));
    }
    super::duration::ttl(s).map(|secs| Ttl(Some(secs)))
}

/// The settings as printed.
#[derive(Serialize)]
struct Shown {
    collection: String,
    history: String,
    priority: String,
    /// Seconds, or null when documents do not expire.
    ttl_secs: Option<u64>,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    validate::writable_collection(&args.collection).map_err(Error::invalid)?;
    let changing = args.history.is_some() || args.priority.is_some() || args.ttl.is_some();
    let backend = if changing { ctx.writer().await? } else { ctx.reader().await? };
    let store = backend.document_store();
    let found = store.get(SETTINGS_COLLECTION, &args.collection).await?;
    let mut settings = CollectionSettings::of(found.as_ref());
    if changing {
        settings.history = args.history.unwrap_or(settings.history);
        settings.priority = args.priority.unwrap_or(settings.priority);
        if let Some(Ttl(secs)) = args.ttl {
            settings.ttl = secs.map(std::time::Duration::from_secs);
        }
        let doc = DocInput {
            id: Some(args.collection.clone()),
            fields: settings.to_fields(),
            ..DocInput::default()
        };
        store.upsert(SETTINGS_COLLECTION, vec![doc]).await?;
    }
    ctx.close(backend).await?;
    let shown = Shown {
        collection: args.collection,
        history: settings.history.to_string(),
        priority: settings.priority.to_string(),
        ttl_secs: settings.ttl.map(|d| d.as_secs()),
    };
    ctx.printer.record(&shown)?;
    Ok(())
}
