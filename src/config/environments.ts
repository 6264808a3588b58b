import { z } from 'zod';

export interface DatacenterConfig {
  name: string;
  marathon: string;
  credentialsEnv?: string;
  tokenEnv?: string;
}

export interface EnvironmentConfig {
  name: string;
  confirm: boolean;
  mutableTags: string[];
  datacenters: DatacenterConfig[];
}

export const datacenterSchema = z.object({
  marathon: z.string(),
  credentialsEnv: z.string().optional(),
  tokenEnv: z.string().optional(),
});

export const environmentsFileSchema = z.object({
  environments: z.record(
    z.string(),
    z.object({
      confirm: z.boolean(),
      mutableTags: z.array(z.string()).default(['latest']),
      datacenters: z.record(z.string(), datacenterSchema),
    }),
  ),
});
