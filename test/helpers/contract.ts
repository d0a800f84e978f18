import Ajv2020 from 'ajv/dist/2020';
import { openApiDocument } from '../../src/api/contract';

type Doc = ReturnType<typeof openApiDocument>;
const ajv = new Ajv2020({ strict: false, allErrors: true });

/**
 * Checks an HTTP answer against the OpenAPI document the ingress serves: the status must be
 * documented for the operation, and a JSON body must validate against its schema.
 */
export function expectContract(doc: Doc, method: string, pathTemplate: string, status: number, body: unknown, headers?: Headers): void {
  const op = (doc.paths as Record<string, Record<string, { responses: Record<string, any> }>>)[pathTemplate]?.[method.toLowerCase()];
  if (!op) throw new Error(`OpenAPI: no operation ${method} ${pathTemplate}`);
  const response = op.responses[String(status)];
  if (!response) throw new Error(`OpenAPI: ${method} ${pathTemplate} does not document status ${status} (body ${JSON.stringify(body)})`);
  const schema = response.content?.['application/json']?.schema;
  if (schema) {
    const validate = ajv.compile(schema);
    if (!validate(body)) {
      throw new Error(`OpenAPI: ${method} ${pathTemplate} ${status} body ${JSON.stringify(body)} does not match: ${ajv.errorsText(validate.errors)}`);
    }
  }
  for (const name of Object.keys(response.headers ?? {})) {
    if (!headers?.get(name)) throw new Error(`OpenAPI: ${method} ${pathTemplate} ${status} must send the ${name} header`);
  }
}
