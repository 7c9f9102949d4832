#!/usr/bin/env node
/*
 * What jsii does not say: it compiles a package and silently leaves out of the assembly every
 * free function, constant and type alias that the entry point exports, so TypeScript users would
 * see an API that Python, Java, .NET and Go users don't. This check reads the entry point with
 * the TypeScript compiler and fails for any export that is neither in the .jsii assembly nor
 * marked @internal, and for any of the required types missing from the assembly.
 *
 *   node scripts/check-jsii.js [--require Name,Name…]
 */
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

/** Problems with the package's jsii surface; [] when every export reaches every language. */
function jsiiProblems({ entryFile, assembly, required = [] }) {
  const program = ts.createProgram([entryFile], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, skipLibCheck: true, noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entryFile);
  if (!source) return [`cannot read ${entryFile}`];
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const problems = [];
  const inAssembly = (name) => Object.prototype.hasOwnProperty.call(assembly.types, `${assembly.name}.${name}`);
  for (const exported of moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const name = exported.getName();
    const declaration = (symbol.declarations ?? [])[0];
    if (!declaration) continue;
    const internal = ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === 'internal');
    if (internal || inAssembly(name)) continue;
    const kind = ts.isFunctionDeclaration(declaration) ? 'a free function'
      : ts.isVariableDeclaration(declaration) ? 'a constant'
        : ts.isTypeAliasDeclaration(declaration) ? 'a type alias'
          : 'a type';
    problems.push(`${name} (${kind}, ${path.relative(process.cwd(), declaration.getSourceFile().fileName)}) is exported but not in the jsii assembly: `
      + 'make it a static member of a class (or a class or interface), or mark it @internal');
  }
  for (const name of required) {
    if (!inAssembly(name)) problems.push(`${name} is missing from the jsii assembly`);
  }
  return problems;
}

function main() {
  const root = path.resolve(__dirname, '..');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const assemblyFile = path.join(root, '.jsii');
  if (!fs.existsSync(assemblyFile)) {
    console.error('check-jsii: no .jsii assembly; run "npm run build" (jsii) first');
    process.exit(1);
  }
  const assembly = JSON.parse(fs.readFileSync(assemblyFile, 'utf8'));
  const flag = process.argv.indexOf('--require');
  const required = flag >= 0 ? process.argv[flag + 1].split(',') : [];
  const entryFile = path.join(root, pkg.types.replace(/^dist\//, '').replace(/\.d\.ts$/, '.ts'));
  const problems = jsiiProblems({ entryFile, assembly, required });
  for (const problem of problems) console.error(`check-jsii: ${problem}`);
  if (problems.length > 0) process.exit(1);
  console.log(`check-jsii: ${Object.keys(assembly.types).length} types in ${assembly.name}@${assembly.version}; every export of ${path.relative(root, entryFile)} reaches jsii`);
}

module.exports = { jsiiProblems };
if (require.main === module) main();
