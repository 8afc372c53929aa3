import { Option, type Command } from 'commander';
import type { CriClient } from '../cri/client.js';
import type { FilesystemUsage__Output } from '../cri/generated/runtime/v1/FilesystemUsage.js';
import { createInterface } from 'node:readline/promises';
import type { AuthConfig } from '../cri/generated/runtime/v1/AuthConfig.js';
import type { Image__Output } from '../cri/generated/runtime/v1/Image.js';
import { GrpcCode } from '../common/errors.js';
import { clientAction, collect } from './command.js';
import { loadSandboxConfig } from './config.js';
import { describeError, withContext } from './connection.js';
import { parseLabelSelector } from './filters.js';
import { addJsonSchemaCommand } from './json-schema.js';
import { logLine } from './log-line.js';
import { UsageError, goMap, humanSize, parseDuration, printStatuses, truncateId, type StatusItem } from './output.js';
import { printProto, protoJsonValue } from './protojson.js';
import { statusFormat } from './runtime.js';
import { statsSize } from './stats.js';
import { printTabwriter } from './tabwriter.js';

interface PullOptions {
  creds?: string;
  auth?: string;
  username?: string;
  pullTimeout?: string;
  pt?: string;
}

/** crictl's --filter help. */
const FILTER_HELP = 'Filter output based on provided conditions (repeatable). Available filters: dangling=(boolean - true or false), reference=/regular expression/, before=<image-name>[:<tag>]|<image id>|<image@digest>, since=<image-name>[:<tag>]|<image id>|<image@digest>. Multiple filters can be combined together.';

/** The pull flags crictl's pull, create and run share (with crictl's environment variables). */
export function addPullFlags(command: Command): Command {
  return command
    .addOption(new Option('--creds <user:password>', 'Use USERNAME[:PASSWORD] for accessing the registry').env('CRICTL_CREDS'))
    .addOption(new Option('--auth <auth>', "Use AUTH_STRING for accessing the registry. AUTH_STRING is a base64 encoded 'USERNAME[:PASSWORD]'").env('CRICTL_AUTH'))
    .option('-u, --username <user>', 'Use USERNAME for accessing the registry. The password will be requested on the command line')
    .addOption(new Option('--pull-timeout <duration>', 'Maximum time to be used for pulling the image, disabled if set to 0s (also --pt)').env('CRICTL_PULL_TIMEOUT'))
    .addOption(new Option('--pt <duration>', 'same as --pull-timeout').hideHelp());
}

/** Image commands: pull, images, inspecti, rmi, imagefsinfo. */
export function registerImageCommands(program: Command): void {
  const pull = program
    .command('pull')
    .description('Pull an image from a registry')
    .argument('<image>', 'NAME[:TAG|@DIGEST]')
    .option('--pod-config <file>', 'Use pod-config.[json|yaml] to override the pull context (the sandbox config sent with the pull)')
    .option('-a, --annotation <key=value>', 'Annotation to be set on the pulled image (repeatable)', collect);
  addPullFlags(pull).action(
    clientAction(async ({ client }, image: string, options: PullOptions & { podConfig?: string; annotation?: string[] }) => {
      if (image === '') throw new UsageError('image name cannot be empty');
      const auth = await authFromOptions(options);
      const sandboxConfig = options.podConfig !== undefined ? await withContext('load podSandboxConfig', async () => loadSandboxConfig(options.podConfig!)) : undefined;
      const annotations = options.annotation ? parseLabelSelector(options.annotation) : undefined;
      const timeoutMs = pullTimeoutMs(options);
      const response = await withContext(
        'pulling image',
        client.callImage('PullImage', { image: { image, ...(annotations ? { annotations } : {}) }, ...(auth ? { auth } : {}), ...(sandboxConfig ? { sandboxConfig } : {}) }, { timeoutMs }),
      );
      console.log(`Image is up to date for ${response.imageRef}`);
    }),
  );
  addJsonSchemaCommand(pull, 'Display the JSON schema for the pod-config.json, ', ['PodSandboxConfig']);

  program
    .command('images')
    .alias('image')
    .alias('img')
    .description('List images')
    .argument('[reference]', 'REPOSITORY[:TAG]: only images this names')
    .option('-v, --verbose', 'Show verbose info for images')
    .option('-q, --quiet', 'Only show image IDs')
    .option('-f, --filter <filter>', FILTER_HELP, collect)
    .option('-o, --output <format>', 'Output format, One of: json|yaml|table')
    .option('--digests', 'Show digests')
    .option('--no-trunc', 'Show output without truncating the ID')
    .option('--pinned', 'Show whether the image is pinned or not')
    .action(
      clientAction(async ({ client }, reference: string | undefined, options: { quiet?: boolean; digests?: boolean; trunc: boolean; pinned?: boolean; verbose?: boolean; output?: string; filter?: string[] }) => {
        const images = await withContext('listing images', listImages(client, reference ?? '', options.filter ?? []));
        if (options.output === 'json' || options.output === 'yaml') return printProto('ListImagesResponse', { images }, options.output);
        const head = ['IMAGE', 'TAG', ...(options.digests ? ['DIGEST'] : []), 'IMAGE ID', 'SIZE', ...(options.pinned ? ['PINNED'] : [])];
        const rows: string[][] = [];
        for (const image of images) {
          if (options.quiet) {
            console.log(image.id);
            continue;
          }
          if (options.verbose) {
            printVerboseImage(image);
            continue;
          }
          const [repo, digest] = repoDigestOf(image.repoDigests);
          for (const [name, tag] of repoTagPairs(image.repoTags, repo)) {
            rows.push([
              name,
              tag,
              ...(options.digests ? [options.trunc ? truncateId(digest) : digest] : []),
              options.trunc ? truncateId(image.id) : image.id,
              humanSize(image.size),
              ...(options.pinned ? [String(image.pinned)] : []),
            ]);
          }
        }
        if (!options.verbose && !options.quiet) printTabwriter(head, rows);
      }),
    );

  program
    .command('inspecti')
    .description('Return the status of one or more images')
    .argument('[images...]', 'IMAGE-ID [IMAGE-ID...] (with none: the images --name and --filter select)')
    .option('-o, --output <format>', 'Output format, One of: json|yaml|go-template|table')
    .option('-q, --quiet', 'Do not show verbose information')
    .option('--template <template>', 'The template string is only used when output is go-template; The Template format is golang template')
    .option('--name <name>', 'Filter by image name')
    .option('-f, --filter <filter>', FILTER_HELP, collect)
    .action(
      clientAction(async ({ client }, refs: string[], options: { output?: string; quiet?: boolean; template?: string; name?: string; filter?: string[] }, command: Command) => {
        const format = statusFormat(options.output, options.template);
        let ids = refs;
        if (ids.length === 0) ids = (await withContext('listing images', listImages(client, options.name ?? '', options.filter ?? []))).map((image) => image.id);
        if (ids.length === 0) {
          logLine('error', 'No IDs provided or nothing found per filter');
          command.outputHelp();
          return;
        }
        const statuses: StatusItem[] = [];
        for (const ref of ids) {
          const response = await withContext(`image status for ${JSON.stringify(ref)} request`, client.callImage('ImageStatus', { image: { image: ref }, verbose: !options.quiet }));
          if (!response.image) throw new UsageError(`no such image ${JSON.stringify(ref)} present`);
          if (format === 'table') printImageStatusTable(response.image, options.quiet ? undefined : response.info);
          else statuses.push({ status: protoJsonValue('Image', response.image), info: response.info });
        }
        if (format !== 'table') printStatuses(statuses, format, options.template);
      }),
    );

  program
    .command('rmi')
    .description('Remove one or more images (an image given by tag goes with all its tags, as in crictl)')
    .argument('[images...]', 'IMAGE-ID [IMAGE-ID...]')
    .option('-a, --all', 'Remove all images')
    .option('-q, --prune', 'Remove all unused images')
    .action(
      clientAction(async ({ client }, refs: string[], options: { all?: boolean; prune?: boolean }, command: Command) => {
        const targets = new Map<string, boolean>(refs.map((ref) => [ref, true]));
        if (options.all || options.prune) {
          for (const image of (await client.callImage('ListImages', {})).images) {
            if (options.prune && image.pinned) continue;
            targets.set(image.id, true);
          }
        }
        if (options.prune) for (const id of await imagesInUse(client)) targets.set(id, false);
        if (targets.size === 0) {
          if (options.all || options.prune) return logLine('info', 'No images to remove');
          command.outputHelp();
          return;
        }
        const failures: string[] = [];
        for (const [ref, remove] of targets) {
          if (!remove) continue;
          try {
            const status = await withContext(`image status request for ${JSON.stringify(ref)} failed`, client.callImage('ImageStatus', { image: { image: ref }, verbose: false }));
            if (!status.image) throw new UsageError(`no such image ${ref}`);
            try {
              await withContext(`error of removing image ${JSON.stringify(ref)}`, client.callImage('RemoveImage', { image: { image: ref } }, { timeoutMs: 60_000 }));
            } catch (error) {
              if (options.prune) continue; // an image that became used meanwhile is kept, as crictl does
              throw error;
            }
            const names = status.image.repoTags.length > 0 ? status.image.repoTags : status.image.repoDigests;
            for (const name of names) console.log(`Deleted: ${name}`);
          } catch (error) {
            failures.push(describeError(error, client.imageEndpoint));
          }
        }
        if (failures.length > 0) throw new UsageError(failures.join('\n'));
      }),
    );

  program
    .command('imagefsinfo')
    .description('Return image filesystem info')
    .option('-o, --output <format>', 'Output format, One of: json|yaml|go-template|table')
    .option('--template <template>', 'The template string is only used when output is go-template; The Template format is golang template')
    .action(
      clientAction(async ({ client }, options: { output?: string; template?: string }) => {
        const format = statusFormat(options.output, options.template);
        const response = await withContext('image filesystem info request', client.callImage('ImageFsInfo', {}));
        if (format !== 'table') return printStatuses([{ status: protoJsonValue('ImageFsInfoResponse', response) }], format, options.template);
        const print = (label: string, filesystems: FilesystemUsage__Output[]) => {
          console.log(`${label} Filesystem `);
          filesystems.forEach((fs, i) => {
            console.log(`TimeStamp[${i}]: ${fs.timestamp}`);
            console.log(`Disk[${i}]: ${statsSize(fs.usedBytes?.value ?? 0)}`);
            console.log(`Inodes[${i}]: ${fs.inodesUsed?.value ?? 0}`);
            console.log(`Mountpoint[${i}]: ${fs.fsId?.mountpoint ?? ''}`);
          });
        };
        print('Container', response.containerFilesystems);
        print('Image', response.imageFilesystems);
      }),
    );
}

/** --pull-timeout (or --pt) in milliseconds; a negative one is crictl's error. */
export function pullTimeoutMs(options: PullOptions): number {
  const text = options.pullTimeout ?? options.pt ?? '0s';
  if (text.trim().startsWith('-')) throw new UsageError('timeout should be bigger than 0');
  return parseDuration(text);
}

/** ListImages as crictl asks for it, sorted by first tag (else first digest, else ID), then --filter. */
export async function listImages(client: CriClient, reference: string, filters: string[]): Promise<Image__Output[]> {
  const { images } = await client.callImage('ListImages', { filter: { image: { image: reference } } });
  images.sort(compareImages);
  return filters.length > 0 && images.length > 0 ? withContext('filter images', async () => filterImages(images, filters)) : images;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** crictl's order of images. */
export function compareImages(a: Image__Output, b: Image__Output): number {
  if (a.repoTags.length > 0 && b.repoTags.length > 0) return compare(a.repoTags[0]!, b.repoTags[0]!);
  if (a.repoDigests.length > 0 && b.repoDigests.length > 0) return compare(a.repoDigests[0]!, b.repoDigests[0]!);
  return compare(a.id, b.id);
}

/** crictl's --filter: dangling=, reference=, before=, since=, applied in the order given. */
export function filterImages<T extends Pick<Image__Output, 'id' | 'repoTags' | 'repoDigests'>>(images: T[], filters: string[]): T[] {
  let filtered = [...images];
  for (const filter of filters) {
    if (filter.startsWith('before=')) {
      filtered = beforeSince(filter.slice('before='.length), [...filtered].reverse()).reverse();
    } else if (filter.startsWith('dangling=')) {
      const value = filter.slice('dangling='.length);
      filtered = filtered.filter((image) => (value === 'true' && image.repoTags.length === 0) || (value === 'false' && image.repoTags.length > 0));
    } else if (filter.startsWith('reference=')) {
      const pattern = filter.slice('reference='.length);
      let re: RegExp;
      try {
        re = new RegExp(pattern);
      } catch (error) {
        throw new UsageError(`error parsing regexp: ${(error as Error).message}`);
      }
      filtered = filtered.filter((image) => {
        const [name] = repoDigestOf(image.repoDigests);
        return re.test(name) || name === pattern;
      });
    } else if (filter.startsWith('since=')) {
      filtered = beforeSince(filter.slice('since='.length), filtered);
    } else {
      throw new UsageError(`unknown filter flag: ${filter}`);
    }
  }
  return filtered;
}

/** The images before the one `value` names (by name:tag, ID prefix or name@digest prefix), as crictl's filterByBeforeSince. */
function beforeSince<T extends Pick<Image__Output, 'id' | 'repoTags' | 'repoDigests'>>(value: string, images: T[]): T[] {
  const out: T[] = [];
  const hasColon = value.includes(':');
  const hasAt = value.includes('@');
  for (const image of images) {
    if (hasColon && !hasAt) {
      const [name] = repoDigestOf(image.repoDigests);
      if (repoTagPairs(image.repoTags, name)[0]!.join(':') === value) break;
      out.push(image);
    }
    if (!hasColon && !hasAt) {
      if (image.id.startsWith(value)) break;
      out.push(image);
    }
    if (hasColon && hasAt && image.repoDigests.length > 0) {
      if (image.repoDigests[0]!.startsWith(value)) break;
      out.push(image);
    }
  }
  return out;
}

/** AuthConfig from --creds / --auth / --username, as crictl builds it. */
export async function authFromOptions(options: PullOptions): Promise<AuthConfig | undefined> {
  const given = [options.creds, options.auth, options.username].filter((v) => v !== undefined).length;
  if (given > 1) throw new UsageError('use only one of --creds, --auth and --username');
  if (options.auth !== undefined) {
    if (options.auth.trim() === '') throw new UsageError('--auth needs a base64 AUTH_STRING');
    return { auth: options.auth };
  }
  if (options.creds !== undefined) {
    const colon = options.creds.indexOf(':');
    if (colon > 0) return { username: options.creds.slice(0, colon), password: options.creds.slice(colon + 1) };
    if (options.creds === '' || colon === 0) throw new UsageError('--creds needs USERNAME[:PASSWORD]');
    return { username: options.creds, password: await readPassword() };
  }
  if (options.username) return { username: options.username, password: await readPassword() };
  return undefined;
}

async function readPassword(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  try {
    if (process.stdin.isTTY) process.stderr.write('Password: ');
    return (await rl.question('')).trim();
  } finally {
    rl.close();
  }
}

/** Splits repo tags into (repository, tag) pairs the way crictl does; an untagged image shows <none>. */
export function repoTagPairs(repoTags: string[], fallbackRepo: string): Array<[string, string]> {
  if (repoTags.length === 0) return [[fallbackRepo, '<none>']];
  return repoTags.map((repoTag) => {
    const idx = repoTag.lastIndexOf(':');
    if (idx === -1) return ['errorRepoTag', 'errorRepoTag'];
    const name = repoTag.slice(0, idx);
    return [name === '<none>' ? fallbackRepo : name, repoTag.slice(idx + 1)];
  });
}

/** The repository and digest of an image's first repo digest, or <none>. */
export function repoDigestOf(repoDigests: string[]): [string, string] {
  const first = repoDigests[0];
  if (!first) return ['<none>', '<none>'];
  const parts = first.split('@');
  return parts.length !== 2 ? ['errorName', 'errorRepoDigest'] : [parts[0]!, parts[1]!];
}

function printVerboseImage(image: Image__Output): void {
  console.log(`ID: ${image.id}`);
  for (const tag of image.repoTags) console.log(`RepoTags: ${tag}`);
  for (const digest of image.repoDigests) console.log(`RepoDigests: ${digest}`);
  if (image.size !== '0') console.log(`Size: ${image.size}`);
  if (image.uid) console.log(`Uid: value:${image.uid.value}`);
  if (image.username) console.log(`Username: ${image.username}`);
  if (image.pinned) console.log(`Pinned: true`);
  console.log('');
}

function printImageStatusTable(image: Image__Output, info: Record<string, string> | undefined): void {
  console.log(`ID: ${image.id}`);
  for (const tag of image.repoTags) console.log(`Tag: ${tag}`);
  for (const digest of image.repoDigests) console.log(`Digest: ${digest}`);
  console.log(`Size: ${humanSize(image.size)}`);
  if (info) console.log(`Info: ${goMap(info)}`);
}

/** IDs of images that containers use; none when the runtime cannot list containers. */
async function imagesInUse(client: CriClient): Promise<Set<string>> {
  const used = new Set<string>();
  try {
    const { containers } = await client.callRuntime('ListContainers', {});
    for (const container of containers) {
      if (container.imageRef) used.add(container.imageRef);
      const ref = container.image?.image;
      if (ref) {
        const status = await client.callImage('ImageStatus', { image: { image: ref }, verbose: false });
        if (status.image) used.add(status.image.id);
      }
    }
  } catch (error) {
    if ((error as { code?: number }).code !== GrpcCode.UNIMPLEMENTED) throw error;
  }
  return used;
}
