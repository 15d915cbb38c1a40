// epilot's client, as its users call it, on the operations of file collections and the
// trash: the six collection operations, deleteFile without and with purge, and the
// query parameters it sends that change nothing here (strict, async, activity_id,
// fill_activity, source_url, hash).
import assert from 'node:assert/strict';
import { fileClient } from './client.mjs';

const failing = (promise) => promise.then(
  (r) => assert.fail(`expected an error, got ${r.status}`),
  (e) => e.response,
);

// A user's collections: create, list, update (nested), and a cycle refused.
const created = await fileClient.createUserSchemaFileCollection(
  { slug: 'opportunity' },
  { name: 'Contracts', starred: false },
);
assert.equal(created.status, 201);
const contracts = created.data;
assert.match(contracts.slug, /^_system_files_collection_[0-9a-f-]{36}_.+:contracts$/);
const nested = await fileClient.createUserSchemaFileCollection(
  { slug: 'opportunity' },
  { name: '2024 Contracts', parents: [contracts.slug] },
);
assert.deepEqual(nested.data.parents, [contracts.slug]);
const duplicate = await failing(
  fileClient.createUserSchemaFileCollection({ slug: 'opportunity' }, { name: 'contracts' }),
);
assert.equal(duplicate.status, 409);
assert.equal(duplicate.data.error, 'conflict');
const cycle = await failing(fileClient.updateUserSchemaFileCollection(
  { slug: 'opportunity', collectionSlug: contracts.slug },
  { parents: [nested.data.slug] },
));
assert.equal(cycle.status, 400);
const starred = await fileClient.updateUserSchemaFileCollection(
  { slug: 'opportunity', collectionSlug: contracts.slug },
  { starred: true },
);
assert.equal(starred.data.starred, true);
assert.equal(starred.data.name, 'Contracts');
const mine = await fileClient.getUserSchemaFileCollections({ slug: 'opportunity' });
assert.deepEqual(mine.data.map((c) => c.name), ['Contracts', '2024 Contracts']);

// The organisation's collections: created through the API's own route (documented in
// docs/openapi.json), read with the client's getGlobalFileCollections.
const global = await fileClient.post('/v1/collections/opportunity', { name: 'Templates' });
assert.equal(global.status, 201);
assert.equal(global.data.slug, '_system_files_collection_schema_opportunity:templates');
const globals = await fileClient.getGlobalFileCollections({ schemaSlug: 'opportunity' });
assert.deepEqual(globals.data.map((c) => c.slug), [global.data.slug]);

// Files of an entity in a collection: a relation to it tagged with the collection's slug.
async function saveRelated(filename, tags) {
  const upload = await fileClient.uploadFileV2(null, { filename, mime_type: 'text/plain' });
  await fileClient.put(upload.data.upload_url, Buffer.from(filename), {
    headers: { 'content-type': 'text/plain' },
  });
  const saved = await fileClient.saveFileV2(
    { strict: true, async: false, activity_id: '01HACTIVITY', fill_activity: true },
    {
      s3ref: upload.data.s3ref,
      filename,
      relations: [{ entity_id: 'deal-1', _schema: 'opportunity', _tags: tags }],
    },
  );
  assert.equal(saved.status, 201);
  return saved.data;
}
const inContracts = await saveRelated('contract.txt', [contracts.slug]);
const inTemplates = await saveRelated('template.txt', [global.data.slug]);
await saveRelated('loose.txt', []);
const files = await fileClient.getFilesInCollection({ id: 'deal-1', collectionSlug: contracts.slug });
assert.deepEqual(files.data.map((f) => f._id), [inContracts._id]);
const templates = await fileClient.getFilesInCollection({
  id: 'deal-1',
  collectionSlug: global.data.slug,
});
assert.deepEqual(templates.data.map((f) => f._id), [inTemplates._id]);

// getFile and accessPublicLink take the client's other parameters.
const got = await fileClient.getFile({ id: inContracts._id, source_url: true, strict: true, async: false });
assert.equal(got.data._id, inContracts._id);
const link = (await fileClient.generatePublicLink({ id: inTemplates._id })).data;
const [, linkId, filename] = new URL(link).pathname.match(/\/public\/links\/([^/]+)\/([^/]+)$/);
const accessed = await fileClient.accessPublicLink(
  { id: linkId, filename, hash: 'abc123' },
  null,
  { maxRedirects: 0, validateStatus: () => true },
);
assert.equal(accessed.status, 302, `accessPublicLink redirects: ${accessed.status}`);

// deleteFile: into the trash (the file answered, deleted), then for good with purge.
const trashed = await fileClient.deleteFile({ id: inContracts._id, activity_id: '01HACTIVITY', strict: true });
assert.equal(trashed.status, 200);
assert.equal(trashed.data._id, inContracts._id);
assert.ok(trashed.data.deleted_at && trashed.data.purge_at, 'in the trash until purge_at');
assert.equal((await failing(fileClient.getFile({ id: inContracts._id }))).status, 404);
const emptied = await fileClient.getFilesInCollection({ id: 'deal-1', collectionSlug: contracts.slug });
assert.deepEqual(emptied.data, [], 'a trashed file is in no collection');
const purged = await fileClient.deleteFile({ id: inContracts._id, purge: true });
assert.equal(purged.status, 200);
assert.equal(purged.data._id, inContracts._id);
const livePurged = await fileClient.deleteFile({ id: inTemplates._id, purge: true });
assert.equal(livePurged.data.deleted, true);
assert.equal((await failing(fileClient.deleteFile({ id: inTemplates._id, purge: true }))).status, 404);

// Deleting a collection keeps its files.
const removed = await fileClient.deleteUserSchemaFileCollection({
  slug: 'opportunity',
  collectionSlug: nested.data.slug,
});
assert.equal(removed.status, 200);
const left = await fileClient.getUserSchemaFileCollections({ slug: 'opportunity' });
assert.deepEqual(left.data.map((c) => c.name), ['Contracts']);
const gone = await failing(fileClient.getFilesInCollection({ id: 'deal-1', collectionSlug: nested.data.slug }));
assert.equal(gone.status, 404);

console.log(JSON.stringify({ ok: true }));
