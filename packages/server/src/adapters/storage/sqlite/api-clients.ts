import type { ApiClientRepository, StoredApiClient } from '../storage.js';
import { creating, type Db } from './shared.js';

interface ApiClientRow {
  instance_id: string;
  client_id: string;
  name: string;
  secret_hash: string;
  created_at: string;
}

const API_CLIENT_COLUMNS = 'instance_id, client_id, name, secret_hash, created_at';

function toApiClient(row: ApiClientRow): StoredApiClient {
  return {
    instanceId: row.instance_id,
    clientId: row.client_id,
    name: row.name,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
  };
}

export function apiClientRepository(db: Db): ApiClientRepository {
  const list = db.prepare<[string], ApiClientRow>(
    `SELECT ${API_CLIENT_COLUMNS} FROM api_clients WHERE instance_id = ? ORDER BY seq`,
  );
  const getByClientId = db.prepare<[string], ApiClientRow>(
    `SELECT ${API_CLIENT_COLUMNS} FROM api_clients WHERE client_id = ?`,
  );
  const insert = db.prepare<[string, string, string, string, string]>(
    'INSERT INTO api_clients (instance_id, client_id, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const remove = db.prepare<[string, string]>('DELETE FROM api_clients WHERE instance_id = ? AND client_id = ?');
  return {
    list: (instanceId) => list.all(instanceId).map(toApiClient),
    getByClientId(clientId) {
      const row = getByClientId.get(clientId);
      return row && toApiClient(row);
    },
    create(client) {
      creating(`API client ${client.clientId}`, () =>
        insert.run(client.instanceId, client.clientId, client.name, client.secretHash, client.createdAt),
      );
      return toApiClient(getByClientId.get(client.clientId)!);
    },
    remove: (instanceId, clientId) => remove.run(instanceId, clientId).changes > 0,
  };
}
