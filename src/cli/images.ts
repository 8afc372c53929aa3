import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import type { AuthConfig } from '../cri/generated/runtime/v1/AuthConfig.js';
import type { Image__Output } from '../cri/generated/runtime/v1/Image.js';
import { GrpcCode } from '../common/errors.js';
import { clientAction } from './command.js';
import { UsageError, humanSize, parseDuration, parseOutputFormat, printMessage, printStatuses, printTable, truncateId } from './output.js';

interface PullOptions {
  creds?: string;
  auth?: string;
  username?: string;
  pullTimeout?: string;
}

/** Image commands: pull, images, inspecti, rmi, imagefsinfo. */
export function registerImageCommands(program: Command): void {
  program
    .command('pull')
    .description('Pull an image from a registry')
    .argument('<image>', 'NAME[:TAG|@DIGEST]')
    .option('--creds <user:password>', 'use USERNAME[:PASSWORD] for accessing the registry')
    .option('--auth <auth>', "use AUTH_STRING (base64 of 'USERNAME[:PASSWORD]') for accessing the registry")
    .option('-u, --username <user>', 'use USERNAME for accessing the registry; the password is read from the terminal or stdin')
    .option('--pull-timeout <duration>', 'maximum time for the pull, 0s for none', '0s')
    .action(
      clientAction(async ({ client }, image: string, options: PullOptions) => {
        const auth = await authFromOptions(options);
        const timeoutMs = parseDuration(options.pullTimeout ?? '0s');
        const response = await client.callImage('PullImage', { image: { image }, ...(auth ? { auth } : {}) }, { timeoutMs });
        console.log(`Image is up to date for ${response.imageRef}`);
      }),
    );

  program
    .command('images')
    .alias('image')
    .alias('img')
    .description('List images')
    .argument('[reference]', 'only images this REPOSITORY[:TAG] names')
    .option('-q, --quiet', 'only show image IDs')
    .option('--digests', 'show digests')
    .option('--no-trunc', 'show output without truncating the ID')
    .option('--pinned', 'show whether the image is pinned')
    .option('-v, --verbose', 'show verbose info for images')
    .option('-o, --output <format>', 'output format: json|yaml|table', 'table')
    .action(
      clientAction(async ({ client }, reference: string | undefined, options: { quiet?: boolean; digests?: boolean; trunc: boolean; pinned?: boolean; verbose?: boolean; output: string }) => {
        const format = parseOutputFormat(options.output, ['json', 'yaml', 'table'], 'table');
        const response = await client.callImage('ListImages', reference ? { filter: { image: { image: reference } } } : {});
        if (format !== 'table') return printMessage(response, format);
        if (options.quiet) {
          for (const image of response.images) console.log(image.id);
          return;
        }
        if (options.verbose) return printVerboseImages(response.images);
        const head = ['IMAGE', 'TAG', ...(options.digests ? ['DIGEST'] : []), 'IMAGE ID', 'SIZE', ...(options.pinned ? ['PINNED'] : [])];
        const rows: string[][] = [];
        for (const image of response.images) {
          const [repo, digest] = repoDigestOf(image.repoDigests);
          for (const [name, tag] of repoTagPairs(image.repoTags, repo)) {
            rows.push([
              name,
              tag,
              ...(options.digests ? [digest === '<none>' ? digest : truncateId(digest, !options.trunc)] : []),
              truncateId(image.id, !options.trunc),
              humanSize(image.size),
              ...(options.pinned ? [String(image.pinned)] : []),
            ]);
          }
        }
        printTable(head, rows);
      }),
    );

  program
    .command('inspecti')
    .description('Return the status of one or more images')
    .argument('[images...]', 'image IDs or references (all images when none are given)')
    .option('-o, --output <format>', 'output format: json|yaml|table', 'json')
    .option('-q, --quiet', 'do not show verbose information')
    .action(
      clientAction(async ({ client }, refs: string[], options: { output: string; quiet?: boolean }) => {
        const format = parseOutputFormat(options.output, ['json', 'yaml', 'table'], 'json');
        let ids = refs;
        if (ids.length === 0) ids = (await client.callImage('ListImages', {})).images.map((image) => image.id);
        if (ids.length === 0) throw new UsageError('no image IDs given and no images present');
        const statuses = [];
        for (const ref of ids) {
          const response = await client.callImage('ImageStatus', { image: { image: ref }, verbose: !options.quiet });
          if (!response.image) throw new UsageError(`image "${ref}" is not present`);
          if (format === 'table') printImageStatusTable(response.image, options.quiet ? undefined : response.info);
          else statuses.push({ status: response.image, info: response.info });
        }
        if (format !== 'table') printStatuses(statuses, format);
      }),
    );

  program
    .command('rmi')
    .description('Remove one or more images (an image that is not present is not an error)')
    .argument('[images...]', 'image IDs or references')
    .option('-a, --all', 'remove all images')
    .option('--prune', 'remove all images not used by a container (pinned images are kept)')
    .action(
      clientAction(async ({ client }, refs: string[], options: { all?: boolean; prune?: boolean }) => {
        const targets = new Set(refs);
        if (options.all || options.prune) {
          for (const image of (await client.callImage('ListImages', {})).images) {
            if (options.prune && image.pinned) continue;
            targets.add(image.id);
          }
        }
        if (options.prune) for (const id of await imagesInUse(client)) targets.delete(id);
        if (targets.size === 0) {
          if (options.all || options.prune) return console.error('No images to remove');
          throw new UsageError('give one or more image IDs or references, or --all / --prune');
        }
        const failures: string[] = [];
        for (const ref of targets) {
          try {
            const status = await client.callImage('ImageStatus', { image: { image: ref }, verbose: false });
            await client.callImage('RemoveImage', { image: { image: ref } }, { timeoutMs: 60_000 });
            if (!status.image) {
              console.error(`image "${ref}" is not present; nothing to remove`);
              continue;
            }
            const names = status.image.repoTags.length > 0 ? status.image.repoTags : status.image.repoDigests.length > 0 ? status.image.repoDigests : [status.image.id];
            for (const name of names) console.log(`Deleted: ${name}`);
          } catch (error) {
            if (options.prune) continue; // an image that became used meanwhile is simply kept
            failures.push(`${ref}: ${error instanceof Error ? ((error as { details?: string }).details ?? error.message) : String(error)}`);
          }
        }
        if (failures.length > 0) throw new UsageError(`removing images failed: ${failures.join('; ')}`);
      }),
    );

  program
    .command('imagefsinfo')
    .description('Return image filesystem info')
    .option('-o, --output <format>', 'output format: json|yaml|table', 'json')
    .action(
      clientAction(async ({ client }, options: { output: string }) => {
        const format = parseOutputFormat(options.output, ['json', 'yaml', 'table'], 'json');
        const response = await client.callImage('ImageFsInfo', {});
        if (format !== 'table') return printStatuses([{ status: response }], format);
        response.imageFilesystems.forEach((fs, i) => {
          console.log('Image Filesystem');
          console.log(`TimeStamp[${i}]: ${fs.timestamp}`);
          console.log(`Disk[${i}]: ${humanSize(fs.usedBytes?.value ?? 0)}`);
          console.log(`Inodes[${i}]: ${fs.inodesUsed?.value ?? 0}`);
          console.log(`Mountpoint[${i}]: ${fs.fsId?.mountpoint ?? ''}`);
        });
      }),
    );
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
  const at = first.indexOf('@');
  return at === -1 ? ['<none>', '<none>'] : [first.slice(0, at), first.slice(at + 1)];
}

function printVerboseImages(images: Image__Output[]): void {
  for (const image of images) {
    console.log(`ID: ${image.id}`);
    for (const tag of image.repoTags) console.log(`RepoTags: ${tag}`);
    for (const digest of image.repoDigests) console.log(`RepoDigests: ${digest}`);
    if (image.size !== '0') console.log(`Size: ${image.size}`);
    if (image.uid) console.log(`Uid: value:${image.uid.value}`);
    if (image.username) console.log(`Username: ${image.username}`);
    if (image.pinned) console.log(`Pinned: true`);
    console.log('');
  }
}

function printImageStatusTable(image: Image__Output, info: Record<string, string> | undefined): void {
  console.log(`ID: ${image.id}`);
  for (const tag of image.repoTags) console.log(`Tag: ${tag}`);
  for (const digest of image.repoDigests) console.log(`Digest: ${digest}`);
  console.log(`Size: ${humanSize(image.size)}`);
  if (info) console.log(`Info: ${JSON.stringify(info)}`);
}

/** IDs of images that containers use; none when the runtime cannot list containers. */
async function imagesInUse(client: import('../cri/client.js').CriClient): Promise<Set<string>> {
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
