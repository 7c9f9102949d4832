import { Names } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** `staging-eu` → `StagingEu`: a stage or client name as part of a construct id. */
export function pascal(text: string): string {
  return text.split(/[^A-Za-z0-9]+/).filter(Boolean).map((part) => part[0].toUpperCase() + part.slice(1).toLowerCase()).join('');
}

/**
 * A physical name derived from the construct path (stack name, path and a hash of it): stable
 * across deploys, unique within an account and region, never dependent on creation order.
 */
export function stableName(scope: IConstruct, maxLength: number): string {
  return Names.uniqueResourceName(scope, { maxLength, separator: '-' });
}
