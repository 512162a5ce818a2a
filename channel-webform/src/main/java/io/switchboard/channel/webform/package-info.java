/** channel-webform (the feedback form). */
package io.switchboard.channel.webform;
