/** Shared by the benchmark driver and its server processes (kept free of aws-cdk-lib so the servers stay small). */
export const BENCH_KEY = 'benchKey0123456789abcdefghijABCDEFGHIJ';
export const BENCH_BODY = '{"pets":[{"id":1,"name":"Rex","type":"dog"},{"id":2,"name":"Tom","type":"cat"}]}';
