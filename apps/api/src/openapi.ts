import 'reflect-metadata';
import { createLogger } from '@berth/platform';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openApiDocument } from './app';
import { renderCliSpec } from './openapi-cli';
import { renderApiReference } from './openapi-markdown';
import { renderWebTypes } from './openapi-types';
import { AppModule } from './app.module';
import { ApiEnv } from './config';

/**
 * The OpenAPI document, built from the controllers and DTOs alone: Nest's preview mode resolves
 * the module graph without creating providers, so no database or Redis is needed.
 */
export async function buildOpenApiDocument(): Promise<OpenAPIObject> {
  const env = Object.assign(new ApiEnv(), { BERTH_DATABASE_URL: 'postgres://unused' });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(env, createLogger('openapi', 'silent')),
    new FastifyAdapter(),
    { preview: true, logger: false, abortOnError: false },
  );
  try {
    return openApiDocument(app);
  } finally {
    await app.close();
  }
}

export const renderOpenApiJson = (doc: OpenAPIObject) => `${JSON.stringify(doc, null, 2)}\n`;

/** `npm run docs`: writes docs/openapi.json, docs/api.md, the CLI's view of the API and the web console's types. */
if (require.main === module) {
  void buildOpenApiDocument().then((doc) => {
    const docs = resolve(process.argv[2] ?? 'docs');
    writeFileSync(resolve(docs, 'openapi.json'), renderOpenApiJson(doc));
    writeFileSync(resolve(docs, 'api.md'), renderApiReference(doc));
    writeFileSync(resolve(docs, '../apps/cli/src/generated/api.ts'), renderCliSpec(doc));
    writeFileSync(resolve(docs, '../apps/web/src/generated/api-types.ts'), renderWebTypes(doc));
  });
}
