// npm run openapi: writes openapi/openapi.json from the route schemas (a test fails when it drifts)
import { writeFile } from 'node:fs/promises'
import { generateOpenApiDocument, serialiseOpenApi } from '../src/openapi-document.js'

const target = new URL('../openapi/openapi.json', import.meta.url)
await writeFile(target, serialiseOpenApi(await generateOpenApiDocument()))
console.log(`wrote ${target.pathname}`)
