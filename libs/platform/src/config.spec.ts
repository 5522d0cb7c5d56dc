import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { ConfigError, EnvBoolean, EnvInt, loadEnv } from './config';
import { IsBoolean } from 'class-validator';

class SampleEnv {
  @Matches(/^postgres:\/\//, { message: 'must be a postgres:// URL' })
  SAMPLE_DATABASE_URL!: string;

  @EnvInt()
  @IsInt()
  @Min(1)
  @Max(65535)
  SAMPLE_PORT = 8080;

  @IsOptional()
  @EnvBoolean()
  @IsBoolean()
  SAMPLE_DEBUG?: boolean;
}

describe('loadEnv', () => {
  it('parses values and keeps defaults', () => {
    const env = loadEnv(SampleEnv, { SAMPLE_DATABASE_URL: 'postgres://x', SAMPLE_DEBUG: 'yes', PATH: '/bin' });
    expect(env).toMatchObject({ SAMPLE_DATABASE_URL: 'postgres://x', SAMPLE_PORT: 8080, SAMPLE_DEBUG: true });
  });

  it('names every variable that is wrong, with what it got', () => {
    let error: unknown;
    try {
      loadEnv(SampleEnv, { SAMPLE_PORT: '80x', SAMPLE_DEBUG: 'perhaps' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        'SAMPLE_DATABASE_URL: must be a postgres:// URL (it is not set)',
        expect.stringMatching(/^SAMPLE_PORT: .* \(got "80x"\)$/),
        expect.stringMatching(/^SAMPLE_DEBUG: .* \(got "perhaps"\)$/),
      ]),
    );
  });

  it('treats an empty variable as unset', () => {
    expect(loadEnv(SampleEnv, { SAMPLE_DATABASE_URL: 'postgres://x', SAMPLE_PORT: '' }).SAMPLE_PORT).toBe(8080);
  });
});
