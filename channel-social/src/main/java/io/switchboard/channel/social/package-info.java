/** channel-social (VK communities and Facebook pages). */
package io.switchboard.channel.social;
