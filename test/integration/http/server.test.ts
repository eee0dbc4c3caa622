import { describe, expect, it, onTestFinished } from 'vitest';
import { ScorerService } from '../../../src/service/index.js';
import { loadConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/logging/index.js';
import { referenceRequest } from '../../fixtures/reference-request.js';

describe('opportunity-scorer serve (a real listening server)', () => {
  it('answers the reference request over TCP, and reports it in /metrics', async () => {
    const config = loadConfig({ env: { LOG_LEVEL: 'silent', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0' } });
    const service = await ScorerService.start({ config, logger: createLogger({ level: 'silent', pretty: false }), version: 'test', mode: 'serve' });
    onTestFinished(() => service.close());
    expect((await fetch(`${service.url}/ready`)).status).toBe(200);
    const res = await fetch(`${service.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'tcp-1' },
      body: JSON.stringify(referenceRequest),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ correlation_id: 'tcp-1', model_version: 'opportunity-scorer@2.0.0' });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/opportunity_scorer_http_requests_total\{route="\/predict",method="POST",status="200"\} 1/);
    expect(metrics).toMatch(/opportunity_scorer_events_scored_total\{bundle="opportunity-scorer",version="2.0.0"\} 1/);
  });
});
