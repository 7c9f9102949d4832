// Checks every relative link (files and #anchors) in README.md, CONTRIBUTING.md, docs/*.md and bench/README.md.
// Usage: node scripts/check-links.js [repo root, default .]; exits 1 on a broken link.
const fs = require('fs'), path = require('path');
const root = process.argv[2] || '.';
const files = ['README.md', 'CONTRIBUTING.md', 'bench/README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => 'docs/' + f)];
const slug = (h) => h.trim().toLowerCase().replace(/<[^>]+>/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
const anchorsOf = (file) => {
  const text = fs.readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  const seen = {}, out = new Set();
  for (const m of text.matchAll(/^#{1,6} (.+)$/gm)) { let s = slug(m[1]); const n = seen[s] || 0; seen[s] = n + 1; out.add(n ? `${s}-${n}` : s); }
  return out;
};
let bad = 0;
for (const f of files) {
  const full = path.join(root, f); if (!fs.existsSync(full)) continue;
  const text = fs.readFileSync(full, 'utf8').replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const link = m[1]; if (/^[a-z]+:/.test(link)) continue;
    const [p, a] = link.split('#');
    const target = p ? path.join(path.dirname(full), p) : full;
    if (!fs.existsSync(target)) { console.log(`${f}: missing file ${link}`); bad++; continue; }
    if (a !== undefined && target.endsWith('.md') && !anchorsOf(target).has(a)) { console.log(`${f}: missing anchor ${link}`); bad++; }
  }
}
console.log(bad ? `${bad} broken link(s)` : 'all relative links resolve'); process.exit(bad ? 1 : 0);
