import { invalidArgument } from '../common/errors.js';
import type { FilesystemUsage } from '../cri/generated/runtime/v1/FilesystemUsage.js';
import type { Image } from '../cri/generated/runtime/v1/Image.js';
import type { ImageFsInfoResponse } from '../cri/generated/runtime/v1/ImageFsInfoResponse.js';
import type { ImageStatusRequest__Output } from '../cri/generated/runtime/v1/ImageStatusRequest.js';
import type { ImageStatusResponse } from '../cri/generated/runtime/v1/ImageStatusResponse.js';
import type { ListImagesRequest__Output } from '../cri/generated/runtime/v1/ListImagesRequest.js';
import type { ListImagesResponse } from '../cri/generated/runtime/v1/ListImagesResponse.js';
import type { PullImageRequest__Output } from '../cri/generated/runtime/v1/PullImageRequest.js';
import type { PullImageResponse } from '../cri/generated/runtime/v1/PullImageResponse.js';
import type { RemoveImageRequest__Output } from '../cri/generated/runtime/v1/RemoveImageRequest.js';
import type { RemoveImageResponse } from '../cri/generated/runtime/v1/RemoveImageResponse.js';
import { imageFromInspect } from '../docker/convert.js';
import { imageMatcher, referenceMatchesImage } from '../docker/reference.js';
import type { DockerImageInspect } from '../docker/types.js';
import type { ServerContext } from './context.js';
import { runWithErrorContext } from './errors.js';
import { AnswerWhileUnchanged } from './store.js';

/** How old the image filesystem figures may get before a call refreshes them in the background. */
const FS_INFO_MAX_AGE_MS = 5000;

/** The CRI ImageService over Docker's image store, read from memory (ImageStore). */
export class ImageService {
  private fsInfo: ImageFsInfoResponse | undefined;
  private fsInfoAt = 0;
  private fsInfoRefresh: Promise<void> | undefined;
  private readonly converted = new WeakMap<DockerImageInspect, Image>();
  private readonly statusAnswers = new WeakMap<DockerImageInspect, ImageStatusResponse>();
  private readonly unfiltered: AnswerWhileUnchanged<ListImagesResponse>;

  constructor(private readonly ctx: ServerContext) {
    this.unfiltered = new AnswerWhileUnchanged(ctx.images);
  }

  /** Pulls the image (with credentials if given) and answers its image ID, "sha256:...". */
  async pullImage(request: PullImageRequest__Output, signal: AbortSignal): Promise<PullImageResponse> {
    const ref = requireImageRef(request.image?.image);
    const auth = request.auth ?? undefined;
    return runWithErrorContext(`pulling image "${ref}"`, async () => {
      await this.ctx.docker.images.pull(ref, auth ?? undefined, signal);
      // Into memory at once: the kubelet's ImageStatus right after must see it.
      const image = await this.ctx.images.refresh(ref);
      if (!image) throw invalidArgument('Docker reported success but the image is not in its store afterwards');
      this.invalidateFsInfo();
      return { imageRef: image.Id };
    });
  }

  /** Every image, or those the filter's image reference names: from memory while it is current. */
  async listImages(request: ListImagesRequest__Output): Promise<ListImagesResponse> {
    const wanted = request.filter?.image?.image ?? '';
    return runWithErrorContext('listing images', async () => {
      if (!this.ctx.images.current) {
        const all = await this.ctx.docker.images.list();
        return { images: all.filter(wanted === '' ? () => true : imageMatcher(wanted)).map((image) => this.toCri(image)) };
      }
      if (wanted === '') return this.unfiltered.get(async () => ({ images: this.ctx.images.all().map((image) => this.toCri(image)) }));
      return { images: this.ctx.images.all().filter(imageMatcher(wanted)).map((image) => this.toCri(image)) };
    });
  }

  /** The image's status, or an empty answer when there is no such image (not an error, as the CRI requires). */
  async imageStatus(request: ImageStatusRequest__Output): Promise<ImageStatusResponse> {
    const ref = requireImageRef(request.image?.image);
    return runWithErrorContext(`getting the status of image "${ref}"`, async () => {
      const image = this.ctx.images.current ? this.ctx.images.find(ref) : await this.ctx.docker.images.inspect(ref);
      if (!image) return { image: null, info: {} };
      if (request.verbose) return { image: this.toCri(image), info: { info: JSON.stringify(image) } };
      // The same answer object while the image is unchanged: its encoding is reused too (withMemoizedEncoding).
      let answer = this.statusAnswers.get(image);
      if (!answer) this.statusAnswers.set(image, (answer = { image: this.toCri(image), info: {} }));
      return answer;
    });
  }

  /** Removes the image with all its tags; an absent image is success. */
  async removeImage(request: RemoveImageRequest__Output): Promise<RemoveImageResponse> {
    const ref = requireImageRef(request.image?.image);
    return runWithErrorContext(`removing image "${ref}"`, async () => {
      const known = this.ctx.images.current ? this.ctx.images.find(ref) : undefined;
      await this.ctx.docker.images.remove(known?.Id ?? ref);
      // Out of memory at once: a list right after must not show it.
      if (known) await this.ctx.images.forget(known);
      else await this.ctx.images.refresh(ref);
      this.invalidateFsInfo();
      return {};
    });
  }

  /**
   * Image filesystem usage. Always fast and never failing: answers the last figures
   * and refreshes them in the background when they are old.
   */
  async imageFsInfo(): Promise<ImageFsInfoResponse> {
    const stale = Date.now() - this.fsInfoAt > FS_INFO_MAX_AGE_MS;
    if (stale && !this.fsInfoRefresh) {
      this.fsInfoRefresh = this.refreshFsInfo().finally(() => (this.fsInfoRefresh = undefined));
    }
    if (!this.fsInfo && this.fsInfoRefresh) {
      // First call: wait a little for real figures, but never long.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.fsInfoRefresh, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
    }
    return this.fsInfo ?? { imageFilesystems: [emptyUsage('')], containerFilesystems: [] };
  }

  private invalidateFsInfo(): void {
    this.fsInfoAt = 0;
  }

  private async refreshFsInfo(): Promise<void> {
    try {
      const [info, images] = await Promise.all([this.ctx.docker.system.info(), this.ctx.images.current ? this.ctx.images.all() : this.ctx.docker.images.list()]);
      const root = info.DockerRootDir ?? '';
      const usedBytes = images.reduce((sum, image) => sum + (image.Size ?? 0), 0);
      // Undefined for a remote Docker host: its filesystem is not ours to look at.
      const inodesUsed = (await this.ctx.docker.host.inodesUsed(root)) ?? 0;
      const timestamp = String(BigInt(Date.now()) * 1_000_000n);
      const usage: FilesystemUsage = {
        timestamp,
        fsId: { mountpoint: root },
        usedBytes: { value: String(usedBytes) },
        inodesUsed: { value: String(inodesUsed) },
      };
      // Containers write to their writable layers, under the same Docker root (one filesystem, not split).
      const layers = await this.writableLayers();
      const containers: FilesystemUsage = {
        timestamp,
        fsId: { mountpoint: root },
        usedBytes: { value: String(layers.bytes) },
        inodesUsed: { value: String(layers.inodes) },
      };
      this.fsInfo = { imageFilesystems: [usage], containerFilesystems: [containers] };
      this.fsInfoAt = Date.now();
    } catch (error) {
      this.ctx.log.debug('image filesystem figures not refreshed', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Bytes and inodes of the writable layers of mascri's containers (overlay2 upper directories). */
  private async writableLayers(): Promise<{ bytes: bigint; inodes: bigint }> {
    let bytes = 0n;
    let inodes = 0n;
    for (const inspect of this.ctx.store.all()) {
      const upper = (inspect as { GraphDriver?: { Data?: { UpperDir?: string } } }).GraphDriver?.Data?.UpperDir;
      if (!upper) continue;
      const usage = await this.ctx.docker.host.diskUsage(upper);
      bytes += usage.bytes;
      inodes += usage.inodes;
    }
    return { bytes, inodes };
  }

  /** The CRI image of an inspect, converted once per inspect object (the store keeps them while unchanged). */
  private toCri(image: DockerImageInspect): Image {
    let converted = this.converted.get(image);
    if (!converted) {
      converted = imageFromInspect(image, referenceMatchesImage(this.ctx.options.podInfraImage, image));
      this.converted.set(image, converted);
    }
    return converted;
  }
}

function requireImageRef(ref: string | undefined): string {
  const trimmed = (ref ?? '').trim();
  if (trimmed === '') throw invalidArgument('the image reference is empty: set image.image in the request');
  return trimmed;
}

function emptyUsage(mountpoint: string): FilesystemUsage {
  return {
    timestamp: String(BigInt(Date.now()) * 1_000_000n),
    fsId: { mountpoint },
    usedBytes: { value: '0' },
    inodesUsed: { value: '0' },
  };
}
