/**
 * Template metadata key on resources whose effect the local gateway emulates itself (it lists
 * them, with this note, among the handled resources instead of "not emulated"). In a module of
 * its own, free of aws-cdk-lib, since the local gateway reads it.
 */
export const LOCAL_EMULATION_METADATA = 'keygate:local';
