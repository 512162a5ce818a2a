package io.switchboard.api.sla;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DurationUnit;

import java.time.Duration;
import java.time.temporal.ChronoUnit;

/**
 * Targets of the default 24/7 policy ({@code SLA_FIRST_RESPONSE}, {@code SLA_NEXT_RESPONSE},
 * {@code SLA_RESOLUTION}, ISO-8601 durations). Defaults: first response 1 hour, next response
 * 2 hours, resolution 2 days.
 */
@ConfigurationProperties("switchboard.sla")
public record SlaTargets(@DurationUnit(ChronoUnit.SECONDS) Duration firstResponse,
                         @DurationUnit(ChronoUnit.SECONDS) Duration nextResponse,
                         @DurationUnit(ChronoUnit.SECONDS) Duration resolution) {

    public SlaTargets {
        firstResponse = firstResponse == null ? Duration.ofHours(1) : firstResponse;
        nextResponse = nextResponse == null ? Duration.ofHours(2) : nextResponse;
        resolution = resolution == null ? Duration.ofDays(2) : resolution;
    }
}
