/** One field of a request (query parameter or body property), as the OpenAPI document gives it. */
export interface ApiField {
  name: string;
  /** string, number, integer, boolean, array, object (JSON), map (key=value pairs). */
  type: string;
  required: boolean;
  description?: string;
  enum?: string[];
  of?: string;
  nullable?: boolean;
}

export interface ApiOperation {
  method: string;
  path: string;
  summary: string;
  query: ApiField[];
  body: ApiField[];
}

export type ApiOperations = Record<string, ApiOperation>;
