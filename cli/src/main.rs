//! `files`: the file service from a terminal. Uploads of any size (parts in parallel,
//! resumable after Ctrl-C or a crash), downloads, details, removal.

mod api;
mod download;
mod progress;
mod upload;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use reqwest::Method;
use serde_json::Value;

use api::{Api, Failure, Outcome};
use upload::UploadOptions;

#[derive(Parser)]
#[command(
    name = "files",
    version,
    about = "Upload, download and manage files in the file service"
)]
struct Cli {
    /// The API's base URL.
    #[arg(
        long,
        env = "FILES_API_URL",
        global = true,
        default_value = "http://127.0.0.1:3000"
    )]
    api: String,
    /// A bearer token of the organisation (`make token` prints one locally).
    #[arg(long, env = "FILES_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// Print results as JSON (the API's answers).
    #[arg(long, global = true)]
    json: bool,
    /// No progress bars or notes.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Upload a file and save it: one PUT when small, else parts in parallel.
    Upload {
        path: PathBuf,
        /// Make it readable by anyone with its public URL.
        #[arg(long)]
        public: bool,
        /// Delete it after this many seconds (60 to 604800).
        #[arg(long, value_name = "SECONDS")]
        ttl: Option<u64>,
        /// Its name in the service (default: the file's).
        #[arg(long)]
        name: Option<String>,
        /// Its MIME type (default: the service guesses from the name).
        #[arg(long = "type", value_name = "MIME")]
        mime_type: Option<String>,
        /// Parts in flight at once.
        #[arg(long, default_value_t = 8)]
        parallel: usize,
        /// Bytes a part (default: 8 MiB, or more for files over 78 GiB).
        #[arg(long, value_name = "BYTES")]
        part_size: Option<u64>,
        /// Files larger than this go up in parts.
        #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
        multipart_threshold: u64,
        /// Upload at most this many bytes a second.
        #[arg(long, value_name = "BYTES")]
        limit_rate: Option<u64>,
        /// Where unfinished uploads are remembered, to resume.
        #[arg(long, env = "FILES_STATE_DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Download a file's latest version, checked against its SHA-256.
    Download {
        id: String,
        /// Where to write it (default: its filename, here).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List files, newest first unless sorted otherwise; one line each.
    Ls {
        /// created_at, updated_at, filename or size_bytes.
        #[arg(long, default_value = "created_at")]
        sort: String,
        /// Ascending instead of descending.
        #[arg(long)]
        asc: bool,
        /// Only filenames containing this (case-insensitive).
        #[arg(short, long = "search")]
        search: Option<String>,
        /// Only this type (image, document, spreadsheet, ...).
        #[arg(long = "type")]
        file_type: Option<String>,
        /// Only this MIME type, or a family (image/*).
        #[arg(long)]
        mime_type: Option<String>,
        /// Only files with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// At most this many files (default: all).
        #[arg(short = 'n', long)]
        max: Option<usize>,
    },
    /// Show a file's details.
    Info { id: String },
    /// Delete a file and all its versions.
    Rm { id: String },
}

fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("files");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/state/files"),
        None => std::env::temp_dir().join("files-state"),
    }
}

/// A file entity for people: the fields that matter, one a line.
fn describe(entity: &Value) -> String {
    let field = |name: &str| match &entity[name] {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    };
    let versions = entity["versions"].as_array().map_or(0, Vec::len);
    format!(
        "id        {}\nfilename  {}\ntype      {}\nsize      {} ({} bytes)\nsha256    {}\naccess    {}\nstatus    {}\ncreated   {}\nversions  {versions}\npublic    {}",
        field("_id"),
        field("filename"),
        field("mime_type"),
        field("readable_size"),
        field("size_bytes"),
        field("checksum_sha256"),
        field("access_control"),
        field("status"),
        field("_created_at"),
        field("public_url"),
    )
}

async fn run(cli: Cli) -> Outcome<()> {
    let token = cli
        .token
        .clone()
        .ok_or_else(|| Failure::new("no token: pass --token or set FILES_TOKEN"))?;
    let api = Api::new(&cli.api, &token)?;
    let show = |entity: &Value| {
        if cli.json {
            println!("{entity}");
        } else {
            println!("{}", describe(entity));
        }
    };
    match cli.command {
        Command::Upload {
            path,
            public,
            ttl,
            name,
            mime_type,
            parallel,
            part_size,
            multipart_threshold,
            limit_rate,
            state_dir,
        } => {
            let options = UploadOptions {
                name,
                mime_type,
                public,
                ttl_seconds: ttl,
                parallel,
                part_size,
                multipart_threshold,
                limit_rate,
                state_dir: state_dir.unwrap_or_else(default_state_dir),
                quiet: cli.quiet,
            };
            show(&upload::upload(&api, &path, &options).await?);
        }
        Command::Download { id, output } => {
            let written = download::download(&api, &id, output.as_deref(), cli.quiet).await?;
            if cli.json {
                println!("{}", serde_json::json!({ "path": written }));
            } else {
                println!("{}", written.display());
            }
        }
        Command::Ls {
            sort,
            asc,
            search,
            file_type,
            mime_type,
            tag,
            max,
        } => {
            let filters = [
                ("sort", Some(sort)),
                ("order", Some(if asc { "asc" } else { "desc" }.to_owned())),
                ("q", search),
                ("type", file_type),
                ("mime_type", mime_type),
                ("tag", tag),
            ];
            let mut listed = 0;
            let mut cursor: Option<String> = None;
            loop {
                let wanted = max.map_or(1000, |m| (m - listed).min(1000));
                if wanted == 0 {
                    break;
                }
                let mut query = form_urlencoded::Serializer::new(String::new());
                query.append_pair("limit", &wanted.to_string());
                for (name, value) in &filters {
                    if let Some(value) = value {
                        query.append_pair(name, value);
                    }
                }
                if let Some(c) = &cursor {
                    query.append_pair("cursor", c);
                }
                let page = api
                    .call(Method::GET, &format!("/v2/files?{}", query.finish()), None)
                    .await?;
                for entity in page["results"].as_array().into_iter().flatten() {
                    listed += 1;
                    if cli.json {
                        println!("{entity}");
                    } else {
                        println!(
                            "{}  {:>10}  {}  {}",
                            entity["_id"].as_str().unwrap_or("-"),
                            entity["readable_size"].as_str().unwrap_or("-"),
                            entity["_created_at"].as_str().unwrap_or("-"),
                            entity["filename"].as_str().unwrap_or("-"),
                        );
                    }
                }
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => break,
                }
            }
            if !cli.quiet && !cli.json {
                eprintln!("{listed} files");
            }
        }
        Command::Info { id } => {
            show(
                &api.call(Method::GET, &format!("/v2/files/{id}"), None)
                    .await?,
            );
        }
        Command::Rm { id } => {
            api.call(Method::DELETE, &format!("/v2/files/{id}"), None)
                .await?;
            if !cli.quiet {
                eprintln!("deleted {id}");
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("files: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("files: error: {e}");
            ExitCode::FAILURE
        }
    }
}
