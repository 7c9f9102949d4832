/**
 * @deprecated Moved to `./shared-constants`. Kept only so branches written against the old
 * name still compile after the merge; import from `./shared-constants`.
 */
export * from './shared-constants';
