// The console's client of the File API: one function per route it uses. Every error
// answer ({error, message}) becomes an ApiError the page can show.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  /** `base`: the API's URL ('' for this page's own origin); `token`: a bearer JWT. */
  constructor(base, token) {
    this.base = base.replace(/\/+$/, '');
    this.token = token;
  }

  /** Whether the API is this page's origin: then the session cookie reaches it. */
  get sameOrigin() {
    return !this.base || new URL(this.base, location.href).origin === location.origin;
  }

  url(path, query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
    }
    const search = params.toString();
    return `${this.base}${path}${search ? `?${search}` : ''}`;
  }

  async call(method, path, { query, body, raw } = {}) {
    const response = await fetch(this.url(path, query), {
      method,
      credentials: this.sameOrigin ? 'same-origin' : 'omit',
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    if (raw && response.ok) return response;
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!response.ok) {
      throw new ApiError(response.status, json?.error ?? 'http_error', json?.message ?? `HTTP ${response.status}`);
    }
    return json;
  }

  // Session (the cookie that lets <img src> of previews carry the token).
  startSession() { return this.call('GET', '/v1/files/session'); }
  endSession() { return this.call('DELETE', '/v1/files/session'); }

  // Browse.
  list(query) { return this.call('GET', '/v2/files', { query }); }
  count(filters) { return this.call('GET', '/v2/files:count', { query: filters }); }
  deleteMatching(filters) {
    const any = Object.values(filters).some((v) => v !== undefined && v !== '');
    return this.call('DELETE', '/v2/files', { query: any ? filters : { all: true } });
  }
  usage() { return this.call('GET', '/v2/usage'); }

  // The trash.
  trash(query) { return this.call('GET', '/v2/files', { query: { ...query, trashed: true } }); }
  trashCount() { return this.call('GET', '/v2/files:count', { query: { trashed: true } }); }
  restoreFile(id) { return this.call('POST', `/v2/files/${id}/restore`); }
  purge(id) { return this.call('DELETE', `/v2/files/${id}`, { query: { purge: true } }); }

  // One file.
  get(id) { return this.call('GET', `/v2/files/${id}`); }
  save(fields, query) { return this.call('POST', '/v2/files', { body: fields, query }); }
  /** Into the trash. */
  remove(id) { return this.call('DELETE', `/v2/files/${id}`); }
  download(id, version = 0) {
    return this.call('GET', `/v1/files/${id}/download`, { query: { version, attachment: true } });
  }
  versions(id) { return this.call('GET', `/v2/files/${id}/versions`); }
  restore(id, version) { return this.call('POST', `/v2/files/${id}/versions/${version}:restore`); }
  deleteVersion(id, version) { return this.call('DELETE', `/v2/files/${id}/versions/${version}`); }
  links(id) { return this.call('GET', `/v1/files/${id}/public/links`); }
  createLink(id) { return this.call('POST', `/v1/files/${id}/public/links`); }
  revokeLink(linkId) { return this.call('DELETE', `/v1/files/public/links/${linkId}`); }
  /** A thumbnail's address, for <img src> with the session cookie. */
  previewUrl(id, size) { return this.url(...this.#preview(id, size)); }
  /** A thumbnail fetched with the token (where the cookie cannot reach the API). */
  async previewBlob(id, size) {
    const [path, query] = this.#preview(id, size);
    return (await this.call('GET', path, { query, raw: true })).blob();
  }
  #preview(id, size) { return [`/v1/files/${id}/preview`, { w: size, h: size }]; }

  // Uploads.
  presign(request) { return this.call('POST', '/v2/files/upload', { body: request }); }
  startMultipart(request) { return this.call('POST', '/v2/files/uploads', { body: request }); }
  multipart(uploadId) { return this.call('GET', `/v2/files/uploads/${encodeURIComponent(uploadId)}`); }
  signParts(uploadId, numbers) {
    return this.call('POST', `/v2/files/uploads/${encodeURIComponent(uploadId)}/parts`, { body: { part_numbers: numbers } });
  }
  complete(uploadId, parts) {
    return this.call('POST', `/v2/files/uploads/${encodeURIComponent(uploadId)}/complete`, { body: { parts } });
  }
  abort(uploadId) { return this.call('DELETE', `/v2/files/uploads/${encodeURIComponent(uploadId)}`); }
}
