// epilot's client as its README sets it up: FILES_API_URL and FILES_TOKEN name the
// service and a token.
import assert from 'node:assert/strict';
import { getClient } from '@epilot/file-client';

export const base = process.env.FILES_API_URL;
const token = process.env.FILES_TOKEN;
assert.ok(base && token, 'FILES_API_URL and FILES_TOKEN are required');

export const fileClient = getClient();
fileClient.defaults.baseURL = base;
fileClient.defaults.headers.common.Authorization = `Bearer ${token}`;
