/** Types of scripts/check-jsii.js for its test. */
export function jsiiProblems(options: { entryFile: string; assembly: { name: string; types: Record<string, unknown> }; required?: string[] }): string[];
