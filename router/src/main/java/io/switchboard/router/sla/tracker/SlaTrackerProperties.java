package io.switchboard.router.sla.tracker;

import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * SLA settings of the router ({@code switchboard.sla.*}, defaults in {@code switchboard-router-sla.properties}).
 *
 * @param firstResponse first-response target of the built-in 24/7 policy ({@code SLA_FIRST_RESPONSE}, default PT1H)
 * @param nextResponse  next-response target of the built-in policy ({@code SLA_NEXT_RESPONSE}, default PT2H)
 * @param resolution    resolution target of the built-in policy ({@code SLA_RESOLUTION}, default P2D)
 * @param warnRatio     share of a target after which the warning fires (default 0.8; 0 turns warnings off)
 * @param pollInterval  how often the scheduler looks for due timers (default PT0.2S; keeps firing within 1 s)
 * @param claimLease    how long a claimed but unconfirmed firing stays with the instance that claimed it before
 *                      another instance (or this one after a restart) publishes it (default PT30S)
 */
@Validated
@ConfigurationProperties("switchboard.sla")
public record SlaTrackerProperties(
        @NotNull Duration firstResponse,
        @NotNull Duration nextResponse,
        @NotNull Duration resolution,
        @DecimalMin("0.0") @DecimalMax("1.0") double warnRatio,
        @NotNull Duration pollInterval,
        @NotNull Duration claimLease) {
}
