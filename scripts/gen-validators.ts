// Writes src/model/validators.generated.ts: the decoders' schema validators precompiled by ajv (see
// src/model/validator-source.ts). Usage: npm run validators. test/unit/validators-generated.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { generatedValidatorsModule } from '../src/model/validator-source.js';

writeFileSync('src/model/validators.generated.ts', generatedValidatorsModule());
console.log('wrote src/model/validators.generated.ts');
