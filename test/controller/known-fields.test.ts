import { describe, expect, it } from 'vitest';
import { dropUnknownDeploymentFields } from '../../controller/known-fields.js';

describe('fields a Deployment has', () => {
  it('drops, and names, fields the apps/v1 Deployment type does not declare (server-side apply would refuse them)', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', labels: { a: 'b' }, annotations: { 'x/y': 'z' } },
      spec: {
        replicas: 2,
        template: {
          metadata: { labels: { a: 'b' } },
          spec: {
            nodeSelectr: { disk: 'ssd' },
            nodeSelector: { disk: 'ssd' },
            containers: [{ name: 'dispatcher', image: 'i', resources: { requests: { cpu: '500m' } }, imagePullPolicyy: 'Always' }],
          },
        },
      },
    };
    expect(dropUnknownDeploymentFields(deployment)).toEqual(['.spec.template.spec.nodeSelectr', '.spec.template.spec.containers[name="dispatcher"].imagePullPolicyy']);
    expect(deployment.spec.template.spec).not.toHaveProperty('nodeSelectr');
    expect(deployment.spec.template.spec.nodeSelector).toEqual({ disk: 'ssd' });
    expect(deployment.metadata.annotations).toEqual({ 'x/y': 'z' });
    expect(deployment.spec.template.spec.containers[0]).toEqual({ name: 'dispatcher', image: 'i', resources: { requests: { cpu: '500m' } } });
  });
});
