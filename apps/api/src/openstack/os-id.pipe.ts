import { BerthError, isUuid } from '@berth/domain';
import { Injectable, type PipeTransform } from '@nestjs/common';

/**
 * An id in an OpenStack path. Clients look a name up as an id first (GET /servers/web-1, /flavors/42) and go on to
 * a list only after a 404, so anything that is not one of Berth's ids is a 404, never a 400 or a 500.
 */
@Injectable()
export class OsIdPipe implements PipeTransform<string, string> {
  constructor(private readonly what: string) {}

  transform(value: string): string {
    if (!isUuid(value)) throw BerthError.notFound(this.what, value);
    return value.toLowerCase();
  }
}
