package io.switchboard.router;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * Router settings ({@code switchboard.router.*}).
 *
 * @param groupId     Kafka consumer group shared by all router instances (they split the partitions)
 * @param instanceId  this instance's static group membership id: unique per running instance and stable
 *                    across its restarts, so a restarted router gets its partitions back at once instead
 *                    of after the dead member's session timeout
 * @param concurrency consumer threads per listener in this instance
 * @param partitions  partitions of the topics the router creates; bounds the useful number of instances
 */
@Validated
@ConfigurationProperties("switchboard.router")
public record RouterProperties(
        @NotBlank String groupId,
        @NotBlank String instanceId,
        @Min(1) int concurrency,
        @Min(1) int partitions) {
}
