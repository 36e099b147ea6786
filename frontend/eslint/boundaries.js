// The SPA's import boundaries, as an ESLint rule: `boundaries/no-cross-imports`.
//
// A feature (src/features/<name>/) never imports another feature nor a page; shared code
// (src/components/, src/api/, src/auth/, src/i18n/) never imports a feature or a page; a role's
// pages (src/pages/<role>/) import features and shared code, never another role's pages.
//
// Why a local rule and not eslint-plugin-import's `import/no-restricted-paths`: that plugin
// declares ESLint ≤ 9 as its peer (we run ESLint 10) and needs a TypeScript resolver plugin on
// top; `no-restricted-imports` only sees the import string, and with relative imports
// ("../staff/api" vs "../../../features/staff/api") the same target is spelled differently at
// every depth. This rule resolves the relative path against the importing file — what
// no-restricted-paths does — in a few dozen lines with no dependency. tests/test_spa_boundaries.py
// proves it bites.
import path from "node:path";

/** Where a file sits: a named feature, a role's pages, shared code, or elsewhere. */
function area(file, srcRoot) {
  const parts = path.relative(srcRoot, file).split(path.sep);
  if (parts[0] === "..") return { kind: "outside" };
  if (parts[0] === "features" && parts.length > 2) return { kind: "feature", name: parts[1] };
  if (parts[0] === "pages" && parts.length > 2) return { kind: "pages", name: parts[1] };
  if (parts[0] === "pages") return { kind: "pages", name: "" };
  if (["components", "api", "auth", "i18n"].includes(parts[0])) return { kind: "shared", name: parts[0] };
  return { kind: "app" };
}

function violation(from, to) {
  if (from.kind === "feature") {
    if (to.kind === "feature" && to.name !== from.name) return `a feature (${from.name}) never imports another feature (${to.name}); let a page compose both`;
    if (to.kind === "pages") return `a feature (${from.name}) never imports a page`;
  }
  if (from.kind === "shared" && (to.kind === "feature" || to.kind === "pages")) {
    return `shared code (src/${from.name}) never imports a ${to.kind === "feature" ? "feature" : "page"}`;
  }
  if (from.kind === "pages" && to.kind === "pages" && from.name && to.name && to.name !== from.name) {
    return `the ${from.name} pages never import the ${to.name} pages' internals; move what both need to a feature or src/components`;
  }
  return null;
}

const noCrossImports = {
  meta: {
    type: "problem",
    docs: { description: "features never import each other; pages import features, not other roles' pages" },
    schema: [],
  },
  create(context) {
    const file = context.physicalFilename ?? context.filename;
    const srcRoot = path.join(context.cwd, "src");
    const from = area(file, srcRoot);
    function check(node) {
      const source = node.source;
      if (!source || typeof source.value !== "string" || !source.value.startsWith(".")) return;
      const message = violation(from, area(path.resolve(path.dirname(file), source.value), srcRoot));
      if (message) context.report({ node: source, message: `${message} ("${source.value}").` });
    }
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

export default { rules: { "no-cross-imports": noCrossImports } };
