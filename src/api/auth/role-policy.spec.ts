import { describe, expect, it } from 'vitest';
import { isOpenRoute, mayCall } from './role-policy';

describe('role policy (docs/contract.md, "Auth")', () => {
  it.each([
    ['operator', 'POST', '/v1/accounts', true],
    ['operator', 'GET', '/v1/accounts/:id/balance', true],
    ['operator', 'GET', '/v1/accounts', true],
    ['operator', 'GET', '/v1/transfers', true],
    ['operator', 'GET', '/v1/accounts/:id/balance-history', true],
    ['auditor', 'GET', '/v1/accounts', true],
    ['auditor', 'GET', '/v1/transfers', true],
    ['auditor', 'GET', '/v1/accounts/:id/balance-history', true],
    ['operator', 'POST', '/v1/transfers/batch', true],
    ['operator', 'GET', '/v1/audit/anything', false],
    ['operator', 'POST', '/v1/audit/replay', false],
    ['operator', 'GET', '/v1/fraud/scores', false],
    ['auditor', 'GET', '/v1/accounts/:id', true],
    ['auditor', 'HEAD', '/v1/transfers/:id', true],
    ['auditor', 'GET', '/v1/fraud/scores', true],
    ['auditor', 'POST', '/v1/audit/replay', true],
    ['auditor', 'POST', '/v1/accounts', false],
    ['auditor', 'POST', '/v1/transfers', false],
    ['auditor', 'POST', '/v1/fraud/reviews', false],
    ['admin', 'POST', '/v1/fraud/reviews', true],
    ['analyst', 'GET', '/v1/transfers/:id', true],
    ['analyst', 'GET', '/v1/accounts', true],
    ['analyst', 'GET', '/v1/fraud/reviews', true],
    ['analyst', 'POST', '/v1/fraud/reviews/:transferId', true],
    ['analyst', 'POST', '/v1/fraud/dead-letters/:id/retry', true],
    ['analyst', 'POST', '/v1/transfers', false],
    ['analyst', 'POST', '/v1/transfers/batch', false],
    ['analyst', 'POST', '/v1/accounts', false],
    ['analyst', 'POST', '/v1/audit/replay', false],
    ['operator', 'POST', '/v1/fraud/reviews/:transferId', false],
    ['auditor', 'POST', '/v1/fraud/reviews/:transferId', false],
    ['admin', 'DELETE', '/v1/anything/new', true],
    ['operator', 'POST', '/v1/accountsx', false],
    ['operator', 'POST', '/v2/accounts', false],
  ] as const)('%s %s %s: %s', (role, method, path, allowed) => {
    expect(mayCall(role, method, path)).toBe(allowed);
  });

  it('opens health, metrics and the API documents only', () => {
    for (const path of [
      '/health/live',
      '/health/ready',
      '/metrics',
      '/openapi.json',
      '/asyncapi.json',
      '/docs',
      '/docs/static/index.html',
      '/console',
      '/console/*',
    ])
      expect(isOpenRoute(path)).toBe(true);
    for (const path of ['/v1/accounts', '/healthz', '/metrics2', '/openapi.jsonx', '/docsx', '/'])
      expect(isOpenRoute(path)).toBe(false);
  });
});
