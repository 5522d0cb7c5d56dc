import { BerthError, isUuid } from '@berth/domain';
import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';

/** Path ids are UUIDs; anything else is a 400 naming the parameter, never a database error. */
@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    const field = metadata.data ?? 'id';
    if (!isUuid(value)) throw BerthError.invalid([{ field, rule: 'isUuid', message: `${field} must be a UUID` }]);
    return value.toLowerCase();
  }
}
