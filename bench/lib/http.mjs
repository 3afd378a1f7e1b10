// A small keep-alive JSON client on node:http for the setup, the lag sampler and the batch phases
// (the single-transfer phases use autocannon, whose client costs less CPU per request).
import http from 'node:http';

export class JsonClient {
  /** @param {string} baseUrl @param {{ apiKey?: string; maxSockets?: number; timeoutMs?: number }} [options] */
  constructor(baseUrl, { apiKey, maxSockets = 64, timeoutMs = 60_000 } = {}) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.timeoutMs = timeoutMs;
    this.headers = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  /** Sends one request; resolves `{status, text, json(), ms}` (never rejects on an HTTP status). */
  request(method, path, body) {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers = { ...this.headers };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.host, port: this.port, method, path, headers, agent: this.agent, timeout: this.timeoutMs },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const ms = performance.now() - started;
            resolve({
              status: res.statusCode,
              text,
              ms,
              json() {
                return JSON.parse(text);
              },
            });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  get(path) {
    return this.request('GET', path);
  }

  post(path, body) {
    return this.request('POST', path, body);
  }

  close() {
    this.agent.destroy();
  }
}

/** Runs `worker(i)` for i in [0, count) with at most `concurrency` at once. */
export async function inParallel(count, concurrency, worker) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      await worker(i);
    }
  });
  await Promise.all(lanes);
}
