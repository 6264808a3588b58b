/** Marathon 1.10 app definition validation (work in progress: signatures are the contract). */
export interface Issue {
  /** JSON pointer into the definition ("/" for the root). */
  path: string;
  message: string;
}

export function validateAppDefinition(value: unknown): { errors: Issue[]; warnings: Issue[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { errors: [{ path: '/', message: 'expected a JSON object' }], warnings: [] };
  }
  return { errors: [], warnings: [] };
}
