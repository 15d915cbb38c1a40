//! Previews over HTTP against the local stack: every format's size, orientation and
//! transparency, bounds and hostile files, the S3 cache (and its removal with versions
//! and files), tenancy, the public and S3-reference variants and the session cookie.

use integration_tests::{config, new_org, stack, stack_with, Stack};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use shared::ports::ObjectStore;
use thumbnail::samples::{self, MARK, REST};

/// What a preview route answered: status, headers, the bytes, and JSON when it is.
struct Shot {
    status: u16,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Shot {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    /// Asserts a thumbnail of this type and returns it decoded.
    fn image(&self, mime_type: &str) -> Picture {
        assert_eq!(self.status, 200, "{}", self.json());
        assert_eq!(self.headers["content-type"], mime_type);
        Picture::decode(&self.bytes)
    }

    fn error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.json());
        assert_eq!(self.headers["content-type"], "application/json");
        self.json()["error"]
            .as_str()
            .expect("an error code")
            .to_owned()
    }

    fn cache(&self) -> &str {
        self.headers["x-preview-cache"].to_str().unwrap()
    }
}

/// A decoded thumbnail, RGBA.
struct Picture {
    width: u32,
    height: u32,
    pixels: Vec<[u8; 4]>,
}

impl Picture {
    fn decode(bytes: &[u8]) -> Picture {
        if bytes.starts_with(b"\x89PNG") {
            let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
                .read_info()
                .unwrap();
            let mut data = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut data).unwrap();
            assert_eq!(info.color_type, png::ColorType::Rgba);
            Picture {
                width: info.width,
                height: info.height,
                pixels: data
                    .chunks_exact(4)
                    .map(|p| [p[0], p[1], p[2], p[3]])
                    .collect(),
            }
        } else {
            let mut decoder = jpeg_decoder::Decoder::new(bytes);
            let data = decoder.decode().expect("a JPEG");
            let info = decoder.info().unwrap();
            Picture {
                width: info.width.into(),
                height: info.height.into(),
                pixels: data
                    .chunks_exact(3)
                    .map(|p| [p[0], p[1], p[2], 255])
                    .collect(),
            }
        }
    }

    fn at(&self, x: u32, y: u32) -> [u8; 4] {
        self.pixels[(y * self.width + x) as usize]
    }

    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Which corner shows the mark: (left?, top?).
    fn mark_corner(&self) -> (bool, bool) {
        let (w, h) = (self.width - 2, self.height - 2);
        let marked: Vec<(u32, u32)> = [(1, 1), (w, 1), (1, h), (w, h)]
            .into_iter()
            .filter(|(x, y)| near(self.at(*x, *y), MARK))
            .collect();
        assert_eq!(marked.len(), 1, "one marked corner: {marked:?}");
        (marked[0].0 == 1, marked[0].1 == 1)
    }
}

fn near(p: [u8; 4], c: [u8; 3]) -> bool {
    (0..3).all(|i| p[i].abs_diff(c[i]) < 40)
}

/// GET `path` with these headers and no redirects followed.
async fn get(s: &Stack, path: &str, headers: &[(&str, String)]) -> Shot {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = client.get(s.url(path));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    shot(request).await
}

async fn shot(request: reqwest::RequestBuilder) -> Shot {
    let response = request.send().await.expect("the local API answers");
    Shot {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

fn bearer(s: &Stack, org: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {}", s.token(org)))]
}

async fn preview(s: &Stack, org: &str, id: &str, query: &str) -> Shot {
    get(
        s,
        &format!("/v1/files/{id}/preview{query}"),
        &bearer(s, org),
    )
    .await
}

fn id_of(entity: &Value) -> String {
    entity["_id"].as_str().expect("_id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_format_is_previewed_at_its_size_upright_and_with_its_transparency() {
    let s = stack().await;
    let org = new_org();
    let new = |name: &'static str, mime: &'static str, bytes: Vec<u8>| {
        let (s, org) = (&s, &org);
        async move { id_of(&s.new_file(org, name, mime, &bytes).await) }
    };

    // A camera photo stored sideways: EXIF orientation 6 turns 800 x 600 into 600 x 800.
    let photo = new("photo.jpg", "image/jpeg", samples::jpeg(800, 600, Some(6))).await;
    let thumb = preview(&s, &org, &photo, "?w=150")
        .await
        .image("image/jpeg");
    assert_eq!(thumb.size(), (150, 200));
    assert_eq!(
        thumb.mark_corner(),
        (false, true),
        "turned a quarter clockwise"
    );
    // Small enough to come from the DC coefficients alone (1/8 scale): still upright.
    let thumb = preview(&s, &org, &photo, "?w=60").await.image("image/jpeg");
    assert_eq!(
        (thumb.size(), thumb.mark_corner()),
        ((60, 80), (false, true))
    );
    // No w or h: 300 wide. Both: the box, aspect ratio kept.
    let thumb = preview(&s, &org, &photo, "").await.image("image/jpeg");
    assert_eq!(thumb.size(), (300, 400));
    let thumb = preview(&s, &org, &photo, "?w=100&h=100")
        .await
        .image("image/jpeg");
    assert_eq!(thumb.size(), (75, 100));

    // Transparency stays: PNG out, alpha kept.
    let logo = new("logo.png", "image/png", samples::png(400, 200, true)).await;
    let thumb = preview(&s, &org, &logo, "?h=50").await.image("image/png");
    assert_eq!(thumb.size(), (100, 50));
    assert!(near(thumb.at(5, 5), MARK) && thumb.at(5, 5)[3] == 255);
    assert!(
        thumb.at(95, 45)[3].abs_diff(128) < 8,
        "{:?}",
        thumb.at(95, 45)
    );
    // An opaque PNG is answered as a JPEG.
    let flat = new("flat.png", "image/png", samples::png(400, 200, false)).await;
    let thumb = preview(&s, &org, &flat, "?w=200").await.image("image/jpeg");
    assert_eq!(
        (thumb.size(), thumb.mark_corner()),
        ((200, 100), (true, true))
    );

    // A GIF's first frame (the second is all green), transparent where it is.
    let anim = new("anim.gif", "image/gif", samples::gif(200, 100)).await;
    let thumb = preview(&s, &org, &anim, "?w=100").await.image("image/png");
    assert_eq!(thumb.size(), (100, 50));
    assert!(near(thumb.at(5, 5), MARK) && near(thumb.at(5, 45), REST));
    assert_eq!(thumb.at(95, 5)[3], 0);

    let webp = new("pic.webp", "image/webp", samples::webp(600, 300, false)).await;
    let thumb = preview(&s, &org, &webp, "?w=120").await.image("image/jpeg");
    assert_eq!(
        (thumb.size(), thumb.mark_corner()),
        ((120, 60), (true, true))
    );

    // A PDF's first page, drawn at the size asked (a page is not pixels).
    let pdf = new("doc.pdf", "application/pdf", samples::pdf(200, 100)).await;
    let thumb = preview(&s, &org, &pdf, "?w=400").await.image("image/jpeg");
    assert_eq!(thumb.size(), (400, 200));
    assert!(near(thumb.at(20, 20), MARK));
    assert!(near(thumb.at(390, 190), [255, 255, 255]));

    // A small image is never enlarged; the box's bounds are 1 and 2048.
    let icon = new("icon.jpg", "image/jpeg", samples::jpeg(40, 30, None)).await;
    let thumb = preview(&s, &org, &icon, "?w=2048&h=2048")
        .await
        .image("image/jpeg");
    assert_eq!(thumb.size(), (40, 30));
    let thumb = preview(&s, &org, &icon, "?w=1&h=1")
        .await
        .image("image/jpeg");
    assert_eq!(thumb.size(), (1, 1));
    for query in [
        "?w=0",
        "?w=2049",
        "?h=-1",
        "?w=abc",
        "?w=1.5",
        "?w=10&h=99999",
    ] {
        assert_eq!(
            preview(&s, &org, &icon, query).await.error(400),
            "invalid_query",
            "{query}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn other_types_bombs_and_damaged_files_are_refused_with_4xx() {
    let s = stack().await;
    let org = new_org();
    let text = id_of(&s.new_file(&org, "notes.txt", "text/plain", b"hello").await);
    assert_eq!(
        preview(&s, &org, &text, "").await.error(415),
        "unsupported_media_type"
    );
    // Named an image, but not one: judged by its bytes.
    let fake = id_of(
        &s.new_file(&org, "fake.png", "image/png", b"just text, really")
            .await,
    );
    assert_eq!(
        preview(&s, &org, &fake, "").await.error(415),
        "unsupported_media_type"
    );
    // Headers claiming more pixels than a preview decodes: refused before decoding.
    let bombs = [
        (
            "bomb.png",
            "image/png",
            samples::png_claiming(100_000, 100_000),
        ),
        (
            "bomb.jpg",
            "image/jpeg",
            samples::jpeg_claiming(65_000, 65_000),
        ),
        (
            "bomb.gif",
            "image/gif",
            samples::gif_claiming(65_535, 65_535),
        ),
        (
            "bomb.webp",
            "image/webp",
            samples::webp_claiming(16_383, 16_383),
        ),
    ];
    for (name, mime, bytes) in bombs {
        let id = id_of(&s.new_file(&org, name, mime, &bytes).await);
        let started = std::time::Instant::now();
        let answer = preview(&s, &org, &id, "").await;
        assert_eq!(answer.error(422), "image_too_large", "{name}");
        assert!(answer.json()["message"]
            .as_str()
            .unwrap()
            .contains("megapixels"));
        eprintln!("{name}: refused in {:?}", started.elapsed());
    }
    for (name, mime, signature) in [
        ("broken.jpg", "image/jpeg", &b"\xff\xd8\xff\xe0"[..]),
        (
            "broken.png",
            "image/png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0",
        ),
        ("broken.pdf", "application/pdf", b"%PDF-1.7\n"),
        ("broken.webp", "image/webp", b"RIFF\x00\x10\x00\x00WEBPVP8 "),
    ] {
        let id = id_of(
            &s.new_file(&org, name, mime, &samples::garbage_after(signature, 8192))
                .await,
        );
        assert_eq!(
            preview(&s, &org, &id, "").await.error(422),
            "unreadable_image",
            "{name}"
        );
    }
    // Truncated in the middle of its pixels: a 4xx or a picture, never a fault.
    let mut cut = samples::png(300, 300, true);
    cut.truncate(cut.len() / 2);
    let id = id_of(&s.new_file(&org, "cut.png", "image/png", &cut).await);
    let answer = preview(&s, &org, &id, "").await;
    assert!(matches!(answer.status, 200 | 422), "{}", answer.status);

    // External files' bytes are elsewhere.
    let external = s
        .save(
            &org,
            json!({"filename": "far.png", "custom_download_url": "https://cdn.example.com/far.png"}),
        )
        .await
        .expect(201);
    assert_eq!(
        preview(&s, &org, &id_of(&external), "").await.error(415),
        "unsupported_media_type"
    );
    // Unknown files and versions.
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        preview(&s, &org, &unknown, "").await.error(404),
        "not_found"
    );
    assert_eq!(
        preview(&s, &org, &text, "?version=9").await.error(404),
        "not_found"
    );
    assert_eq!(
        preview(&s, &org, "not-a-uuid", "").await.error(400),
        "invalid_id"
    );
}

/// The cached previews of a file, as S3 keys.
async fn cached(s: &Stack, org: &str, id: &str) -> Vec<String> {
    s.service
        .store()
        .list(&format!("files/{org}/{id}/"))
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.contains("/preview/"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn previews_are_cached_per_version_and_size_and_go_with_their_version_and_file() {
    let s = stack().await;
    let org = new_org();
    let file = s
        .new_file(
            &org,
            "photo.jpg",
            "image/jpeg",
            &samples::jpeg(640, 480, None),
        )
        .await;
    let id = id_of(&file);
    let version_key = file["s3ref"]["key"].as_str().unwrap().to_owned();

    let first = preview(&s, &org, &id, "?w=64").await;
    assert_eq!((first.status, first.cache()), (200, "miss"));
    let again = preview(&s, &org, &id, "?w=64").await;
    assert_eq!((again.status, again.cache()), (200, "hit"));
    assert_eq!(again.bytes, first.bytes);
    let folder = version_key.rsplit_once('/').unwrap().0;
    assert_eq!(
        cached(&s, &org, &id).await,
        [format!("{folder}/preview/64x0")]
    );

    // A hit is a read of the cache, not a decode: what the cache holds is what is
    // answered, even when it is not what the source would give.
    let planted = samples::png(7, 5, true);
    s.service
        .store()
        .put(
            &format!("{folder}/preview/64x0"),
            planted.clone(),
            Some("image/png"),
        )
        .await
        .unwrap();
    let hit = preview(&s, &org, &id, "?w=64").await;
    assert_eq!((hit.cache(), &hit.bytes), ("hit", &planted));
    assert_eq!(hit.headers["content-type"], "image/png");

    // Another size is another entry; concurrent first requests all get the picture.
    let answers =
        futures::future::join_all((0..8).map(|_| preview(&s, &org, &id, "?w=32&h=32"))).await;
    for answer in &answers {
        assert_eq!(answer.image("image/jpeg").size(), (32, 24));
    }
    assert_eq!(preview(&s, &org, &id, "?w=32&h=32").await.cache(), "hit");

    // A new version: "latest" is previewed anew; version 1 keeps its cache.
    let s3ref = s
        .upload(
            &org,
            "photo.jpg",
            "image/jpeg",
            &samples::jpeg(300, 600, None),
        )
        .await;
    s.save(&org, json!({"_id": id, "s3ref": s3ref}))
        .await
        .expect(201);
    let latest = preview(&s, &org, &id, "?w=64").await;
    assert_eq!(
        (latest.cache(), latest.image("image/jpeg").size()),
        ("miss", (64, 128))
    );
    assert_eq!(
        preview(&s, &org, &id, "?w=64&version=1").await.cache(),
        "hit"
    );
    assert_eq!(cached(&s, &org, &id).await.len(), 3);

    // Deleting version 1 deletes its previews; purging the file, the rest (a file in
    // the trash keeps them, and answers 404 for a preview).
    s.call(
        &org,
        Method::DELETE,
        &format!("/v2/files/{id}/versions/1"),
        None,
    )
    .await
    .expect(200);
    let left = cached(&s, &org, &id).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(!left[0].starts_with(folder));
    s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    assert_eq!(cached(&s, &org, &id).await.len(), 1, "kept in the trash");
    assert_eq!(
        preview(&s, &org, &id, "?w=64").await.error(404),
        "not_found"
    );
    s.call(
        &org,
        Method::DELETE,
        &format!("/v2/files/{id}?purge=true"),
        None,
    )
    .await
    .expect(200);
    assert!(cached(&s, &org, &id).await.is_empty());
    assert_eq!(
        preview(&s, &org, &id, "?w=64").await.error(404),
        "not_found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn public_and_s3_reference_previews_keep_to_the_download_rules() {
    let s = stack().await;
    let (org, other) = (new_org(), new_org());
    let file = s
        .new_file(
            &org,
            "photo.jpg",
            "image/jpeg",
            &samples::jpeg(400, 300, None),
        )
        .await;
    let id = id_of(&file);
    let key = file["s3ref"]["key"].as_str().unwrap().to_owned();
    let bucket = file["s3ref"]["bucket"].as_str().unwrap().to_owned();

    // Another organisation sees nothing, by id or by key.
    assert_eq!(preview(&s, &other, &id, "").await.error(404), "not_found");
    let by_key = |org: &str, body: Value| {
        let request = reqwest::Client::new()
            .post(s.url("/v1/files:previewS3?w=100"))
            .bearer_auth(s.token(org))
            .json(&body);
        shot(request)
    };
    let body = json!({"bucket": bucket, "key": key});
    assert_eq!(by_key(&other, body.clone()).await.error(404), "not_found");
    let own = by_key(&org, body.clone()).await;
    assert_eq!(own.image("image/jpeg").size(), (100, 75));
    // A version's preview by key shares the cache of the preview by id.
    assert_eq!(preview(&s, &org, &id, "?w=100").await.cache(), "hit");
    // The GET variant, for <img src>.
    let query = format!(
        "/v1/files:previewS3?w=100&bucket={bucket}&key={}",
        percent_encoding::utf8_percent_encode(&key, percent_encoding::NON_ALPHANUMERIC)
    );
    let answer = get(&s, &query, &bearer(&s, &org)).await;
    assert_eq!(
        (answer.cache(), answer.image("image/jpeg").size()),
        ("hit", (100, 75))
    );
    // An unsaved upload of the caller's: previewed, never cached (it may be replaced).
    let upload = s
        .upload(&org, "draft.png", "image/png", &samples::png(50, 50, true))
        .await;
    for _ in 0..2 {
        let answer = by_key(&org, upload.clone()).await;
        assert_eq!(
            (answer.cache(), answer.image("image/png").size()),
            ("miss", (50, 50))
        );
    }
    assert_eq!(by_key(&other, upload.clone()).await.error(404), "not_found");
    for bad in [
        json!({"bucket": "another-bucket", "key": key}),
        json!({"bucket": bucket, "key": format!("{key}/../../x")}),
        json!({"bucket": bucket, "key": format!("files/{org}/{id}/nope/photo.jpg")}),
    ] {
        assert_eq!(by_key(&org, bad).await.error(404), "not_found");
    }
    for bad in [json!({"bucket": bucket}), json!({"key": key}), json!([1])] {
        assert_eq!(by_key(&org, bad).await.error(400), "invalid_body");
    }
    let missing = get(&s, "/v1/files:previewS3?bucket=b", &bearer(&s, &org)).await;
    assert_eq!(missing.error(400), "invalid_query");

    // Public previews: only while public-read, and without any token.
    let public = format!("/v1/files/public/{id}/preview?w=80");
    assert_eq!(get(&s, &public, &[]).await.error(403), "forbidden");
    s.save(&org, json!({"_id": id, "access_control": "public-read"}))
        .await
        .expect(201);
    let answer = get(&s, &public, &[]).await;
    assert_eq!(answer.image("image/jpeg").size(), (80, 60));
    assert!(answer.headers["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public"));
    let with_org = get(&s, &format!("{public}&org_id={org}"), &[]).await;
    assert_eq!(with_org.status, 200);
    let wrong_org = get(&s, &format!("{public}&org_id={other}"), &[]).await;
    assert_eq!(wrong_org.error(404), "not_found");
    let unknown = format!("/v1/files/public/{}/preview", uuid::Uuid::new_v4());
    assert_eq!(get(&s, &unknown, &[]).await.error(404), "not_found");
    s.call(&org, Method::DELETE, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    assert_eq!(get(&s, &public, &[]).await.error(404), "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_session_cookie_lets_an_img_tag_show_a_preview() {
    let s = stack().await;
    let org = new_org();
    let id = id_of(
        &s.new_file(&org, "pic.png", "image/png", &samples::png(120, 60, false))
            .await,
    );
    let path = format!("/v1/files/{id}/preview?w=60");
    assert_eq!(get(&s, &path, &[]).await.error(401), "unauthorized");

    let session = get(&s, "/v1/files/session", &bearer(&s, &org)).await;
    assert_eq!(session.status, 200);
    let cookie = session.headers["set-cookie"].to_str().unwrap();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let answer = get(&s, &path, &[("cookie", pair.clone())]).await;
    assert_eq!(answer.image("image/jpeg").size(), (60, 30));
    assert!(answer.headers["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("private"));

    let forged = format!("{}x", pair);
    assert_eq!(
        get(&s, &path, &[("cookie", forged)]).await.error(401),
        "unauthorized"
    );
    // Another organisation's cookie finds nothing.
    let other = get(&s, "/v1/files/session", &bearer(&s, &new_org())).await;
    let other_pair = other.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        get(&s, &path, &[("cookie", other_pair)]).await.error(404),
        "not_found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn decoding_has_a_time_limit_and_sources_a_size_limit() {
    let mut limited = config();
    limited.previews.timeout = std::time::Duration::from_millis(1);
    limited.previews.max_source_bytes = 5_000;
    let s = stack_with(limited).await;
    let org = new_org();
    // Past the size limit: refused before the bytes are read.
    let big = samples::png(1000, 1000, true);
    assert!(big.len() > 5_000);
    let id = id_of(&s.new_file(&org, "big.png", "image/png", &big).await);
    let answer = preview(&s, &org, &id, "").await;
    assert_eq!(answer.error(422), "image_too_large");
    assert!(answer.json()["message"].as_str().unwrap().contains("bytes"));
    // Within it, but a 1 ms budget: a 2-megapixel PDF page takes longer to draw.
    let pdf = samples::pdf(2000, 1000);
    let id = id_of(&s.new_file(&org, "slow.pdf", "application/pdf", &pdf).await);
    let answer = preview(&s, &org, &id, "?w=2048").await;
    assert_eq!(answer.error(422), "unreadable_image");
    assert!(answer.json()["message"]
        .as_str()
        .unwrap()
        .contains("longer than"));
}
