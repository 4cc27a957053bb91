/**
 * E2B's build instructions as an agentbox template recipe (src/engine/images/recipe.ts), so a
 * `Template` built through E2B's API is built, cached and run like any `agentbox template build`.
 *
 * E2B applies its steps in order, each RUN as the user and in the directory the steps before it
 * set, with the ENVs set so far (https://e2b.dev/docs/template/user-and-workdir: `user` and
 * `/home/user` unless changed). A recipe copies its files first and then runs its shell lines as
 * root, so each instruction becomes one run line that carries that state: RUN switches user with
 * `su`, COPY's files are staged by the recipe under COPY_STAGE and put in place by their own run
 * line (owner, mode) at their position in the order; the last line removes the stage.
 */
import { posix } from 'node:path';
import type { BuildStart } from '../../../api/e2b-template-build.ts';
import { AgentboxError } from '../../../api/errors.ts';
import type { TemplateBody } from '../../../api/native.ts';
import { templateName } from '../control.ts';
import { readArchive, type ArchiveLimits } from './archive.ts';

/** Where COPY's files wait inside the image until their step puts them in place. */
export const COPY_STAGE = '/.agentbox-e2b-copy';

/** E2B's defaults for a template built on another template (every E2B template has `user`). */
const TEMPLATE_DEFAULTS = { user: 'user', workdir: '/home/user' };
/** A plain image starts as Docker's does. */
const IMAGE_DEFAULTS = { user: 'root', workdir: '/' };

const USER = /^[a-z_][a-z0-9_-]{0,31}(:[a-z_][a-z0-9_-]{0,31})?$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DEBIAN_RELEASES: Record<string, string> = { 11: 'bullseye', 12: 'bookworm', 13: 'trixie', stable: 'bookworm', latest: 'bookworm' };

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const invalid = (message: string, step?: number) => new AgentboxError('invalid_argument', message, step === undefined ? undefined : { details: { step } });

export interface E2bRecipe {
  recipe: TemplateBody;
  /** For each run line of the recipe (1-based), the E2B step it came from (1-based; `finalize` for the stage's removal). */
  stepOfRunLine: string[];
}

export interface RecipeInput {
  name: string;
  start: BuildStart;
  cpu?: number;
  memoryMiB?: number;
  /** The uploaded archive of a COPY's files, by the SDK's files hash. */
  upload: (filesHash: string) => Buffer | undefined;
  limits: ArchiveLimits;
}

/**
 * What an image reference can be built from here. No registry is reachable, so only the images
 * agentbox makes itself map: E2B's own base image, Debian (mmdebstrap) and busybox.
 */
export function imageBase(image: string): Record<string, unknown> {
  const [repo, tag = 'latest'] = image.replace(/^docker\.io\/(library\/)?/, '').split(/:(?=[^/]*$)/);
  if (repo === 'e2bdev/base') return { template: 'base' };
  if (repo === 'busybox') return { busybox: {} };
  if (repo === 'debian') {
    const release = tag.replace(/-slim$/, '').replace(/-\d{8}$/, '');
    const suite = DEBIAN_RELEASES[release] ?? release;
    if (/^[a-z]+$/.test(suite)) return { debian: { suite } };
  }
  throw new AgentboxError('invalid_argument', `image '${image}' cannot be pulled: this agentbox server reaches no container registry. `
    + `Import it instead (docker save ${image} > image.tar && agentbox template import NAME image.tar) and build fromTemplate('NAME'); `
    + `fromImage takes e2bdev/base, debian:<release> and busybox, which agentbox builds itself`, { details: { image } });
}

function base(start: BuildStart): { from: Record<string, unknown>; user: string; workdir: string } {
  if (start.fromImageRegistry) {
    throw invalid('registry credentials (fromImageRegistry, fromAWSRegistry, fromGCPRegistry) are not supported: this agentbox server reaches no container registry; '
      + 'import the image (agentbox template import NAME image.tar) and build fromTemplate(\'NAME\')');
  }
  if (!!start.fromImage === !!start.fromTemplate) throw invalid('give exactly one of fromImage and fromTemplate');
  if (start.fromTemplate) return { from: { template: templateName(start.fromTemplate) }, ...TEMPLATE_DEFAULTS };
  const from = imageBase(start.fromImage!);
  return { from, ...('template' in from ? TEMPLATE_DEFAULTS : IMAGE_DEFAULTS) };
}

/** Runs `script` as `user` (root runs it directly; others through su, which every base image has). */
function asUser(user: string, script: string): string {
  const name = user.split(':')[0]!;
  return name === 'root' ? `/bin/sh -c ${quote(script)}` : `su -s /bin/sh ${quote(name)} -c ${quote(script)}`;
}

/** Creates `dir` when missing, owned by `owner` (so a later step as that user can write in it); an existing one keeps its owner. */
const makeDir = (dir: string, owner: string) => `{ [ -d ${quote(dir)} ] || { mkdir -p ${quote(dir)} && chown ${quote(owner)} ${quote(dir)}; }; }`;

/** Where a COPY puts one of its files, as Docker's COPY does: a file onto `dest` (into it when it ends in `/`), a directory's files under `dest`. */
function copyTarget(src: string, file: string, dest: string): string {
  if (file === src) return dest.endsWith('/') ? posix.join(dest, posix.basename(file)) : dest;
  if (src === '.' || src === '') return posix.join(dest, file);
  if (file.startsWith(`${src}/`)) return posix.join(dest, file.slice(src.length + 1));
  return posix.join(dest, posix.basename(file)); // a glob's match
}

export function e2bRecipe(input: RecipeInput): E2bRecipe {
  const { start } = input;
  let { from, user, workdir } = base(start);
  const env: Record<string, string> = {};
  const files: { path: string; content: string; encoding: 'base64'; mode: number }[] = [];
  const run: string[] = [];
  const stepOfRunLine: string[] = [];
  const exports = () => Object.entries(env).map(([k, v]) => `export ${k}=${quote(v)}\n`).join('');

  start.steps.forEach((s, i) => {
    const step = i + 1;
    const [a0 = '', a1 = '', a2 = '', a3 = ''] = s.args;
    switch (s.type.toUpperCase()) {
      case 'ENV':
        if (s.args.length % 2 !== 0) throw invalid(`step ${step} (ENV) takes key, value pairs`, step);
        for (let k = 0; k < s.args.length; k += 2) {
          if (!ENV_KEY.test(s.args[k]!)) throw invalid(`step ${step} (ENV): '${s.args[k]}' is not an environment variable name`, step);
          env[s.args[k]!] = s.args[k + 1]!;
        }
        return;
      case 'USER':
        if (!USER.test(a0)) throw invalid(`step ${step} (USER): '${a0}' is not a user name`, step);
        user = a0;
        return;
      case 'WORKDIR':
        if (!a0) throw invalid(`step ${step} (WORKDIR) needs a directory`, step);
        workdir = posix.resolve(workdir, a0);
        run.push(makeDir(workdir, user));
        stepOfRunLine.push(String(step));
        return;
      case 'RUN': {
        if (!a0.trim()) throw invalid(`step ${step} (RUN) has no command`, step);
        const runAs = a1 || user;
        if (!USER.test(runAs)) throw invalid(`step ${step} (RUN): '${runAs}' is not a user name`, step);
        run.push(asUser(runAs, `${exports()}cd ${quote(workdir)} || exit 1\n${a0}`));
        stepOfRunLine.push(String(step));
        return;
      }
      case 'COPY': {
        if (!a0 || !a1) throw invalid(`step ${step} (COPY) needs a source and a destination`, step);
        const owner = a2 || user;
        if (!USER.test(owner)) throw invalid(`step ${step} (COPY): '${owner}' is not a user name`, step);
        if (a3 && !/^[0-7]{1,4}$/.test(a3)) throw invalid(`step ${step} (COPY): mode '${a3}' is not octal`, step);
        const archive = s.filesHash ? input.upload(s.filesHash) : undefined;
        if (!archive) throw invalid(`step ${step} (COPY ${a0}): its files (hash ${s.filesHash ?? 'missing'}) were not uploaded: GET /templates/{templateID}/files/{hash} and PUT the archive to the url it gives`, step);
        const dest = posix.resolve(workdir, a1) + (a1.endsWith('/') ? '/' : '');
        const src = a0.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
        const lines: string[] = [];
        for (const f of readArchive(archive, input.limits)) {
          const staged = `${COPY_STAGE}/${step}/${files.length}`;
          const target = copyTarget(src, f.path, dest);
          files.push({ path: staged, content: f.content.toString('base64'), encoding: 'base64', mode: 0o600 });
          lines.push(`${makeDir(posix.dirname(target), owner)} && cp ${staged} ${quote(target)} && chmod ${a3 || f.mode.toString(8)} ${quote(target)} && chown ${quote(owner)} ${quote(target)}`);
        }
        if (lines.length === 0) throw invalid(`step ${step} (COPY ${a0}): the uploaded archive holds no files`, step);
        run.push(lines.join('\n'));
        stepOfRunLine.push(String(step));
        return;
      }
      default:
        throw invalid(`step ${step}: '${s.type}' is not a build instruction agentbox knows (COPY, ENV, RUN, WORKDIR, USER)`, step);
    }
  });
  if (files.length > 0) {
    run.push(`rm -rf ${COPY_STAGE}`);
    stepOfRunLine.push('finalize');
  }

  const recipe: TemplateBody = {
    name: input.name,
    description: 'built through the E2B template API',
    from,
    files,
    run,
    env,
    workdir,
    user: user.split(':')[0]!,
    // E2B runs a start command once, at the end of the build, waits for the ready command, and
    // snapshots the sandbox with it running; creates never start it, never run the ready command
    // (also when it stands alone) and their env never reaches the start command
    // (https://e2b.dev/docs/template/start-ready-command). The golden snapshot is that here.
    ...(start.startCmd ? { start: { cmd: ['/bin/sh', '-c', start.startCmd], cwd: workdir, user: user.split(':')[0]!, goldenSnapshot: true } } : {}),
    ...(start.readyCmd ? { ready: { cmd: ['/bin/sh', '-c', start.readyCmd], timeoutMs: 120_000, goldenSnapshot: true } } : {}),
    ...(input.cpu || input.memoryMiB ? { resources: { cpu: input.cpu ?? 1, memoryMiB: input.memoryMiB ?? 512, pids: 1024 } } : {}),
  };
  return { recipe, stepOfRunLine };
}
