/** The docs show the named queries exactly as the construct deploys them and the DuckDB test runs them. */
import * as fs from 'fs';
import * as path from 'path';
import { USAGE_QUERIES, USAGE_TABLES } from '../../lib/shared/usage-export';

const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'usage-and-billing.md'), 'utf8');
const sqlBlocks = [...doc.matchAll(/```sql\n([\s\S]*?)\n```/g)].map((m) => m[1]);

test('every named query appears verbatim in docs/usage-and-billing.md, and nothing else is shown as a named query', () => {
  expect(sqlBlocks).toEqual([
    USAGE_QUERIES.requestsPerCustomerPerMonth(USAGE_TABLES.daily),
    USAGE_QUERIES.billableRequestsPerKeyPerDay(USAGE_TABLES.requests),
    USAGE_QUERIES.keysOverQuotaPercent(USAGE_TABLES.daily, 80),
  ]);
});

test('the README links the section', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  expect(readme).toMatch(/## Usage and billing\n[\s\S]*\[docs\/usage-and-billing\.md\]\(docs\/usage-and-billing\.md\)/);
});
